package io.egosecure.core;

import io.egosecure.core.model.TenantId;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;

/**
 * The bearer secrets this server issues, and the ids it assigns. A secret reads {@code
 * <kind>.[<tenant>.]<id>.<random>}: the kind stops an agent credential from passing as an admin
 * key, the tenant and id find the one stored hash to compare (in constant time) without a search
 * over all of them, and 32 random bytes make it unguessable.
 */
final class Secrets {
  private static final int RANDOM_BYTES = 32;
  /** 32 bytes in unpadded base64url. */
  private static final int RANDOM_CHARS = 43;
  private static final int MAX_ID_LENGTH = 64;
  private static final char[] ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789".toCharArray();
  private static final int ID_RANDOM_CHARS = 20;

  enum Kind {
    ADMIN_KEY("esk", false),
    ENROLLMENT_TOKEN("est", true),
    AGENT_CREDENTIAL("esa", true);

    final String prefix;
    final boolean tenantScoped;

    Kind(String prefix, boolean tenantScoped) {
      this.prefix = prefix;
      this.tenantScoped = tenantScoped;
    }
  }

  /** What a well-formed secret names; its hash still has to match. */
  record Parsed(Optional<TenantId> tenant, String id) {}

  private final SecureRandom random;

  Secrets(SecureRandom random) {
    this.random = random;
  }

  /** A new id such as {@code t-4k2x…}: a prefix that says what it is, then 100 random bits. */
  String newId(String prefix) {
    StringBuilder id = new StringBuilder(prefix).append('-');
    for (int i = 0; i < ID_RANDOM_CHARS; i++) {
      id.append(ID_ALPHABET[random.nextInt(ID_ALPHABET.length)]);
    }
    return id.toString();
  }

  String issue(Kind kind, Optional<TenantId> tenant, String id) {
    if (kind.tenantScoped != tenant.isPresent()) {
      throw new IllegalArgumentException(kind + " secrets " + (kind.tenantScoped ? "name" : "do not name") + " a tenant");
    }
    byte[] bytes = new byte[RANDOM_BYTES];
    random.nextBytes(bytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    return kind.prefix + "." + tenant.map(t -> t.value() + ".").orElse("") + id + "." + secret;
  }

  /**
   * The tenant and id a secret of {@code kind} names, or empty if it is not one. Parsed by hand,
   * without splitting or regular expressions: every authenticated request parses one.
   */
  static Optional<Parsed> parse(Kind kind, String secret) {
    if (secret == null || secret.length() > 256) {
      return Optional.empty();
    }
    int prefixEnd = kind.prefix.length();
    if (!secret.startsWith(kind.prefix) || secret.length() <= prefixEnd || secret.charAt(prefixEnd) != '.') {
      return Optional.empty();
    }
    int idStart = prefixEnd + 1;
    String tenant = null;
    if (kind.tenantScoped) {
      int tenantEnd = secret.indexOf('.', idStart);
      if (tenantEnd < 0 || !isId(secret, idStart, tenantEnd)) {
        return Optional.empty();
      }
      tenant = secret.substring(idStart, tenantEnd);
      idStart = tenantEnd + 1;
    }
    int idEnd = secret.indexOf('.', idStart);
    if (idEnd < 0 || !isId(secret, idStart, idEnd) || !isRandomPart(secret, idEnd + 1)) {
      return Optional.empty();
    }
    String id = secret.substring(idStart, idEnd);
    return tenant != null
        ? Optional.of(new Parsed(Optional.of(TenantId.of(tenant)), id))
        : Optional.of(new Parsed(Optional.empty(), id));
  }

  /** 1 to 64 characters of a-z, 0-9 and '-', not starting with '-' (as ids are made). */
  private static boolean isId(String text, int from, int to) {
    int length = to - from;
    if (length < 1 || length > MAX_ID_LENGTH || text.charAt(from) == '-') {
      return false;
    }
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return false;
      }
    }
    return true;
  }

  /** Exactly the 43 base64url characters of 32 random bytes, to the end of the secret. */
  private static boolean isRandomPart(String text, int from) {
    if (text.length() - from != RANDOM_CHARS) {
      return false;
    }
    for (int i = from; i < text.length(); i++) {
      char c = text.charAt(i);
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }
}
