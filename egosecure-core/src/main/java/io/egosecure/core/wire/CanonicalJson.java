package io.egosecure.core.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.egosecure.core.ValidationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.erdtman.jcs.JsonCanonicalizer;

/**
 * RFC 8785 (JSON Canonicalization Scheme): the one byte form of a JSON value that signatures
 * cover. Numbers follow ECMAScript's shortest round-trip form, which Java's {@code
 * Double.toString} does not, so the work is left to a canonicaliser built for it.
 */
public final class CanonicalJson {
  private CanonicalJson() {}

  /** The canonical UTF-8 bytes of {@code value}. */
  public static byte[] canonicalize(JsonNode value) {
    return canonicalize(value.toString());
  }

  /**
   * The canonical UTF-8 bytes of the JSON text {@code json}.
   *
   * @throws ValidationException if {@code json} is not JSON, or holds what RFC 8785 cannot
   *     canonicalise: duplicate member names, numbers out of double range, lone surrogates
   */
  public static byte[] canonicalize(String json) {
    String trimmed = json.strip();
    // The canonicaliser parses only objects and arrays; RFC 8785 covers any JSON value.
    boolean scalar = !trimmed.startsWith("{") && !trimmed.startsWith("[");
    String canonical;
    try {
      canonical = new JsonCanonicalizer(scalar ? "[" + trimmed + "]" : json).getEncodedString();
    } catch (IOException | RuntimeException e) {
      throw new ValidationException("/", "cannot be canonicalised: " + e.getMessage());
    }
    if (scalar) {
      if (canonical.length() <= 2) {
        throw new ValidationException("/", "cannot be canonicalised: no JSON value");
      }
      canonical = canonical.substring(1, canonical.length() - 1);
    }
    // RFC 8785 3.2.2.2: lone surrogates are an error. Encoding them would turn each into '?',
    // so two different documents would share one canonical form (and one signature).
    for (int i = 0; i < canonical.length(); i++) {
      char c = canonical.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < canonical.length()
          && Character.isLowSurrogate(canonical.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new ValidationException(
            "/", String.format("cannot be canonicalised: lone surrogate U+%04X", (int) c));
      }
    }
    return canonical.getBytes(StandardCharsets.UTF_8);
  }

  /** The canonical form of one string: quoted and escaped as RFC 8785 says. */
  static String string(String value) {
    ArrayNode wrapper = JsonNodeFactory.instance.arrayNode().add(value);
    String canonical = new String(canonicalize(wrapper), StandardCharsets.UTF_8);
    return canonical.substring(1, canonical.length() - 1);
  }
}
