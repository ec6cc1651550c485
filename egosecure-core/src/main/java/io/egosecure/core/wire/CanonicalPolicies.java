package io.egosecure.core.wire;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.PolicySet;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The {@code policies} array of a PolicySet in RFC 8785 canonical form, made once per distinct
 * selection of policies and shared by every agent that gets the same selection: signing a set for
 * one agent then costs a signature, not a serialisation.
 */
public final class CanonicalPolicies {
  private final List<PolicySet.Entry> entries;
  private final byte[] canonical;
  private final String digest;

  private CanonicalPolicies(List<PolicySet.Entry> entries, byte[] canonical) {
    this.entries = entries;
    this.canonical = canonical;
    this.digest = sha256Hex(canonical);
  }

  /** The canonical form of {@code entries}, in the order given. */
  public static CanonicalPolicies of(List<PolicySet.Entry> entries) {
    ArrayNode array = JsonNodeFactory.instance.arrayNode();
    for (PolicySet.Entry entry : entries) {
      array.add(tree(entry));
    }
    return new CanonicalPolicies(List.copyOf(entries), CanonicalJson.canonicalize(array));
  }

  static ObjectNode tree(PolicySet.Entry entry) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("id", entry.id().value());
    node.put("name", entry.name());
    node.put("kind", entry.kind());
    node.put("version", entry.version());
    node.set("settings", entry.settings());
    return node;
  }

  public List<PolicySet.Entry> entries() {
    return entries;
  }

  /** SHA-256 of the canonical bytes, hex: equal for equal selections, on every node. */
  public String digest() {
    return digest;
  }

  byte[] bytes() {
    return canonical;
  }

  private static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }
}
