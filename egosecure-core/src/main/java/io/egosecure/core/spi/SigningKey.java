package io.egosecure.core.spi;

import io.egosecure.core.model.PublicSigningKey;
import java.security.PrivateKey;
import java.util.Objects;

/** A tenant's Ed25519 key pair, as a {@link KeyVault} hands it to the signer. */
public record SigningKey(PublicSigningKey publicKey, PrivateKey privateKey) {
  public SigningKey {
    Objects.requireNonNull(publicKey, "publicKey == null");
    Objects.requireNonNull(privateKey, "privateKey == null");
  }

  public String keyId() {
    return publicKey.keyId();
  }

  /** Names the key only: a private key has no business in a log. */
  @Override
  public String toString() {
    return "SigningKey[" + publicKey.keyId() + "]";
  }
}
