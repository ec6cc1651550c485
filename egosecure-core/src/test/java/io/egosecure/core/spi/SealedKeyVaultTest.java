package io.egosecure.core.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Revision;
import io.egosecure.core.model.RevisionSnapshot;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.Test;

class SealedKeyVaultTest {
  private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");
  private final PolicyStore store = PolicyStore.inMemory();
  private final SecretKey masterKey = KeyVault.generateMasterKey();

  private TenantId tenant(String id) {
    Tenant tenant = new Tenant(TenantId.of(id), id, AT, Optional.empty(), PollingSettings.DEFAULT);
    store.createTenant(tenant,
        new RevisionSnapshot(new Revision(0, AT, "", "system"), PollingSettings.DEFAULT, List.of()));
    return tenant.id();
  }

  @Test
  void aTenantGetsOneKeyThatSignsAndIsStoredSealed() throws Exception {
    TenantId t = tenant("t");
    KeyVault vault = KeyVault.sealedInStore(store, masterKey);

    SigningKey key = vault.signingKey(t);
    assertThat(vault.signingKey(t)).isSameAs(key);
    assertThat(vault.publicKeys(t)).containsExactly(key.publicKey());

    StoredSigningKey stored = store.inTenant(t, TenantTransaction::signingKeys).get(0);
    byte[] pkcs8 = key.privateKey().getEncoded();
    assertThat(indexOf(stored.sealedPrivateKey(), Arrays.copyOfRange(pkcs8, pkcs8.length - 32, pkcs8.length)))
        .as("raw private key bytes in the store").isEqualTo(-1);
    assertThat(key.toString()).doesNotContain(new String(pkcs8, StandardCharsets.ISO_8859_1));

    Signature signer = Signature.getInstance("Ed25519");
    signer.initSign(key.privateKey());
    signer.update(new byte[] {1, 2, 3});
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(vault.publicKeys(t).get(0).publicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signature)).isTrue();
  }

  @Test
  void anotherVaultOnTheSameStoreAndMasterKeyOpensTheSameKey() {
    TenantId t = tenant("t");
    SigningKey first = KeyVault.sealedInStore(store, masterKey).signingKey(t);

    SigningKey reopened = KeyVault.sealedInStore(store, masterKey).signingKey(t);

    assertThat(reopened.publicKey()).isEqualTo(first.publicKey());
    assertThat(reopened.privateKey().getEncoded()).isEqualTo(first.privateKey().getEncoded());
  }

  @Test
  void theWrongMasterKeyDoesNotOpenAKey() {
    TenantId t = tenant("t");
    KeyVault.sealedInStore(store, masterKey).signingKey(t);

    assertThatThrownBy(() -> KeyVault.sealedInStore(store, KeyVault.generateMasterKey()).signingKey(t))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("does not open with this master key");
  }

  @Test
  void aSealedKeyCopiedToAnotherTenantDoesNotOpen() {
    TenantId a = tenant("a");
    TenantId b = tenant("b");
    KeyVault.sealedInStore(store, masterKey).signingKey(a);
    StoredSigningKey keyOfA = store.inTenant(a, tx -> tx.signingKeys().get(0));
    store.inTenant(b, tx -> {
      tx.addSigningKey(keyOfA);
      return null;
    });

    assertThatThrownBy(() -> KeyVault.sealedInStore(store, masterKey).signingKey(b))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void masterKeysAreThirtyTwoBytes() {
    assertThat(KeyVault.generateMasterKey().getEncoded()).hasSize(32);
    assertThatThrownBy(() -> KeyVault.masterKey(new byte[16]))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("a master key is 32 bytes, not 16");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
