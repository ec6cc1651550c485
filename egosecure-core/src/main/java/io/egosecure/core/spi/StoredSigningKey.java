package io.egosecure.core.spi;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tenant signing key as a {@link KeyVault} hands it to the store: the public key in the clear,
 * the private key sealed by the vault. The store keeps the bytes and never looks inside.
 *
 * @param publicKey the X.509 SubjectPublicKeyInfo encoding
 * @param sealedPrivateKey the private key as the vault sealed it
 */
public record StoredSigningKey(
    String keyId, byte[] publicKey, byte[] sealedPrivateKey, Instant createdAt) {
  public StoredSigningKey {
    Objects.requireNonNull(keyId, "keyId == null");
    publicKey = Objects.requireNonNull(publicKey, "publicKey == null").clone();
    sealedPrivateKey = Objects.requireNonNull(sealedPrivateKey, "sealedPrivateKey == null").clone();
    // Stores keep milliseconds, as the model does, so a round trip through any store is exact.
    createdAt =
        Objects.requireNonNull(createdAt, "createdAt == null").truncatedTo(ChronoUnit.MILLIS);
  }

  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  @Override
  public byte[] sealedPrivateKey() {
    return sealedPrivateKey.clone();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof StoredSigningKey that
        && keyId.equals(that.keyId)
        && Arrays.equals(publicKey, that.publicKey)
        && Arrays.equals(sealedPrivateKey, that.sealedPrivateKey)
        && createdAt.equals(that.createdAt);
  }

  @Override
  public int hashCode() {
    return Objects.hash(keyId, Arrays.hashCode(publicKey), createdAt);
  }

  @Override
  public String toString() {
    return "StoredSigningKey[" + keyId + ", createdAt=" + createdAt + "]";
  }
}
