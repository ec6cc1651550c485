package io.egosecure.core.spi;

import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Holds each tenant's Ed25519 signing key. The default, {@link #sealedInStore}, keeps keys in the
 * {@link PolicyStore} encrypted with a server master key; an integrator with an HSM or a cloud
 * KMS implements this interface instead.
 *
 * <pre>{@code
 * SecretKey masterKey = KeyVault.masterKey(Files.readAllBytes(masterKeyFile));
 * KeyVault vault = KeyVault.sealedInStore(store, masterKey);
 * }</pre>
 */
public interface KeyVault {

  /** Length of a master key: AES-256. */
  int MASTER_KEY_BYTES = 32;

  /**
   * Keeps keys in {@code store}, private halves sealed with AES-256-GCM under {@code masterKey}
   * and bound to their tenant, so a sealed key copied to another tenant does not open.
   */
  static KeyVault sealedInStore(PolicyStore store, SecretKey masterKey) {
    return new SealedKeyVault(store, masterKey);
  }

  /** A new random master key. Keep it apart from the database: it protects every signing key. */
  static SecretKey generateMasterKey() {
    byte[] bytes = new byte[MASTER_KEY_BYTES];
    new SecureRandom().nextBytes(bytes);
    return masterKey(bytes);
  }

  /** The master key of these {@value #MASTER_KEY_BYTES} bytes. */
  static SecretKey masterKey(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes == null");
    if (bytes.length != MASTER_KEY_BYTES) {
      throw new IllegalArgumentException(
          "a master key is " + MASTER_KEY_BYTES + " bytes, not " + bytes.length);
    }
    return new SecretKeySpec(bytes, "AES");
  }

  /** The key the tenant signs with now, created on first use. */
  SigningKey signingKey(TenantId tenant);

  /** The public keys agents of the tenant should trust, the current one included. */
  List<PublicSigningKey> publicKeys(TenantId tenant);
}
