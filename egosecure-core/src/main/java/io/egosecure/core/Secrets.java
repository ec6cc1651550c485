package io.egosecure.core;

import io.egosecure.core.model.TenantId;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer secrets this server issues, and the ids it assigns. A secret reads {@code
 * <kind>.[<tenant>.]<id>.<random>}: the kind stops an agent credential from passing as an admin
 * key, the tenant and id find the one stored hash to compare (in constant time) without a search
 * over all of them, and 32 random bytes make it unguessable.
 */
final class Secrets {
  private static final int RANDOM_BYTES = 32;
  private static final Pattern RANDOM = Pattern.compile("[A-Za-z0-9_-]{43}");
  private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");
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

  /** The tenant and id a secret of {@code kind} names, or empty if it is not one. */
  static Optional<Parsed> parse(Kind kind, String secret) {
    if (secret == null || secret.length() > 256) {
      return Optional.empty();
    }
    String[] parts = secret.split("\\.", -1);
    int expected = kind.tenantScoped ? 4 : 3;
    if (parts.length != expected
        || !parts[0].equals(kind.prefix)
        || !RANDOM.matcher(parts[expected - 1]).matches()) {
      return Optional.empty();
    }
    for (int i = 1; i < expected - 1; i++) {
      if (!ID.matcher(parts[i]).matches()) {
        return Optional.empty();
      }
    }
    return kind.tenantScoped
        ? Optional.of(new Parsed(Optional.of(TenantId.of(parts[1])), parts[2]))
        : Optional.of(new Parsed(Optional.empty(), parts[1]));
  }
}
