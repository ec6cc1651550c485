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

  /** The canonical UTF-8 bytes of the JSON text {@code json}. */
  public static byte[] canonicalize(String json) {
    try {
      return new JsonCanonicalizer(json).getEncodedUTF8();
    } catch (IOException | RuntimeException e) {
      throw new ValidationException("/", "cannot be canonicalised: " + e.getMessage());
    }
  }

  /** The canonical form of one string: quoted and escaped as RFC 8785 says. */
  static String string(String value) {
    ArrayNode wrapper = JsonNodeFactory.instance.arrayNode().add(value);
    String canonical = new String(canonicalize(wrapper), StandardCharsets.UTF_8);
    return canonical.substring(1, canonical.length() - 1);
  }
}
