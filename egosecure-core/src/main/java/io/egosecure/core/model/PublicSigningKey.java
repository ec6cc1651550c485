package io.egosecure.core.model;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.HexFormat;

/**
 * The public half of a tenant's Ed25519 signing key, as agents receive it at enrollment.
 *
 * @param keyId derived from the key itself ({@link #keyIdOf}), so every node names it alike
 */
public record PublicSigningKey(String keyId, PublicKey publicKey) {
  public static final String ALGORITHM = "Ed25519";

  public PublicSigningKey {
    Checks.notNull(keyId, "keyId");
    Checks.notNull(publicKey, "publicKey");
    if (!ALGORITHM.equals(publicKey.getAlgorithm()) && !"EdDSA".equals(publicKey.getAlgorithm())) {
      throw new IllegalArgumentException(
          "signing keys are " + ALGORITHM + ", not " + publicKey.getAlgorithm());
    }
  }

  public static PublicSigningKey of(PublicKey publicKey) {
    return new PublicSigningKey(keyIdOf(publicKey), publicKey);
  }

  /** {@code ed25519-} and the first 16 hex digits of the SHA-256 of the key's X.509 encoding. */
  public static String keyIdOf(PublicKey publicKey) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(publicKey.getEncoded());
      return "ed25519-" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  public String algorithm() {
    return ALGORITHM;
  }
}
