package io.egosecure.core.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The SHA-256 hash of a secret (an admin key, an agent credential, an enrollment token): the
 * only form in which a secret is ever stored. {@link #matches} compares in constant time.
 *
 * <p>Secrets are 256-bit random tokens, so a single unsalted SHA-256 is the right tool: there is
 * nothing to brute-force, and a slow password hash would only slow every request.
 */
public record SecretHash(byte[] bytes) {
  private static final int LENGTH = 32;
  /**
   * Never used itself, only cloned: a clone costs a fraction of {@code MessageDigest.getInstance},
   * whose provider lookup dominated hashing a credential on every authenticated request.
   */
  private static final MessageDigest SHA_256 = newSha256();

  public SecretHash {
    Checks.notNull(bytes, "secretHash");
    if (bytes.length != LENGTH) {
      throw new IllegalArgumentException(
          "a SHA-256 hash is " + LENGTH + " bytes, not " + bytes.length);
    }
    bytes = bytes.clone();
  }

  /** Hashes {@code secret} (its UTF-8 bytes). */
  public static SecretHash of(String secret) {
    return new SecretHash(sha256(secret));
  }

  /** Whether {@code secret} hashes to this value, compared in constant time. */
  public boolean matches(String secret) {
    return MessageDigest.isEqual(bytes, sha256(secret));
  }

  private static byte[] sha256(String secret) {
    MessageDigest digest;
    try {
      digest = (MessageDigest) SHA_256.clone();
    } catch (CloneNotSupportedException e) {
      // A provider whose SHA-256 cannot be cloned: a new instance each time, as before.
      digest = newSha256();
    }
    return digest.digest(secret.getBytes(StandardCharsets.UTF_8));
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SecretHash that && MessageDigest.isEqual(bytes, that.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  /** The first bytes only: enough to tell hashes apart in a log, useless to an attacker. */
  @Override
  public String toString() {
    return "SecretHash[" + HexFormat.of().formatHex(bytes, 0, 4) + "…]";
  }
}
