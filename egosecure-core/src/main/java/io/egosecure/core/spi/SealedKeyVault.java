package io.egosecure.core.spi;

import io.egosecure.core.model.PublicSigningKey;
import io.egosecure.core.model.TenantId;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;

/** Keys in the store, private halves sealed with AES-256-GCM; see {@link KeyVault#sealedInStore}. */
final class SealedKeyVault implements KeyVault {
  private static final byte FORMAT_VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final PolicyStore store;
  private final SecretKey masterKey;
  private final SecureRandom random = new SecureRandom();
  private final ConcurrentMap<TenantId, SigningKey> current = new ConcurrentHashMap<>();

  SealedKeyVault(PolicyStore store, SecretKey masterKey) {
    this.store = Objects.requireNonNull(store, "store == null");
    this.masterKey = Objects.requireNonNull(masterKey, "masterKey == null");
    if (masterKey.getEncoded() == null || masterKey.getEncoded().length != MASTER_KEY_BYTES) {
      throw new IllegalArgumentException("the master key must be " + MASTER_KEY_BYTES + " raw bytes");
    }
  }

  @Override
  public SigningKey signingKey(TenantId tenant) {
    return current.computeIfAbsent(tenant, this::loadOrCreate);
  }

  @Override
  public List<PublicSigningKey> publicKeys(TenantId tenant) {
    signingKey(tenant);
    return store.inTenant(tenant, tx -> tx.signingKeys().stream().map(this::publicKeyOf).toList());
  }

  private SigningKey loadOrCreate(TenantId tenant) {
    // Serialised per tenant by the store, so two nodes starting at once agree on one key.
    return store.inTenant(
        tenant,
        tx -> {
          List<StoredSigningKey> keys = tx.signingKeys();
          if (!keys.isEmpty()) {
            return unseal(tenant, keys.get(keys.size() - 1));
          }
          KeyPair pair = generate();
          PublicSigningKey publicKey = PublicSigningKey.of(pair.getPublic());
          tx.addSigningKey(
              new StoredSigningKey(
                  publicKey.keyId(),
                  pair.getPublic().getEncoded(),
                  seal(tenant, publicKey.keyId(), pair.getPrivate()),
                  Instant.now()));
          return new SigningKey(publicKey, pair.getPrivate());
        });
  }

  private PublicSigningKey publicKeyOf(StoredSigningKey stored) {
    try {
      PublicKey key =
          KeyFactory.getInstance(PublicSigningKey.ALGORITHM)
              .generatePublic(new X509EncodedKeySpec(stored.publicKey()));
      return new PublicSigningKey(stored.keyId(), key);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("stored public key " + stored.keyId() + " is unreadable", e);
    }
  }

  private static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(PublicSigningKey.ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }

  private byte[] seal(TenantId tenant, String keyId, PrivateKey privateKey) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      random.nextBytes(nonce);
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, masterKey, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(associatedData(tenant, keyId));
      byte[] sealed = cipher.doFinal(privateKey.getEncoded());
      return ByteBuffer.allocate(1 + NONCE_BYTES + sealed.length)
          .put(FORMAT_VERSION)
          .put(nonce)
          .put(sealed)
          .array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("sealing a signing key failed", e);
    }
  }

  private SigningKey unseal(TenantId tenant, StoredSigningKey stored) {
    byte[] sealed = stored.sealedPrivateKey();
    if (sealed.length <= 1 + NONCE_BYTES || sealed[0] != FORMAT_VERSION) {
      throw new IllegalStateException(
          "signing key " + stored.keyId() + " of tenant " + tenant + " has an unknown format");
    }
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(
          Cipher.DECRYPT_MODE, masterKey, new GCMParameterSpec(TAG_BITS, sealed, 1, NONCE_BYTES));
      cipher.updateAAD(associatedData(tenant, stored.keyId()));
      byte[] pkcs8 = cipher.doFinal(sealed, 1 + NONCE_BYTES, sealed.length - 1 - NONCE_BYTES);
      PrivateKey privateKey =
          KeyFactory.getInstance(PublicSigningKey.ALGORITHM)
              .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      return new SigningKey(publicKeyOf(stored), privateKey);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(
          "signing key "
              + stored.keyId()
              + " of tenant "
              + tenant
              + " does not open with this master key (a different master.key?)",
          e);
    }
  }

  private static byte[] associatedData(TenantId tenant, String keyId) {
    return ("egosecure signing key " + tenant.value() + " " + keyId)
        .getBytes(StandardCharsets.UTF_8);
  }
}
