package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

class TlsTest {
  private final TestCertificate ca = TestCertificate.issue("CN=Agents CA", null);
  private final TestCertificate server = TestCertificate.issue("CN=localhost", ca);
  private final TestCertificate stranger = TestCertificate.issue("CN=Pinned elsewhere", null);

  @Test
  void aPinOnTheTrustedPathIsAccepted() throws Exception {
    assertThatCode(() -> pinning(Tls.pinOf(ca.certificate()))
        .checkServerTrusted(new X509Certificate[] {server.certificate()}, "ECDHE_ECDSA"))
        .doesNotThrowAnyException();
    assertThatCode(() -> pinning(Tls.pinOf(server.certificate()))
        .checkServerTrusted(new X509Certificate[] {server.certificate(), ca.certificate()}, "ECDHE_ECDSA"))
        .doesNotThrowAnyException();
  }

  @Test
  void aPinnedCertificateAppendedToTheChainDoesNotCount() throws Exception {
    // The chain validates through the CA; the pinned certificate rides along but is not on the path.
    X509Certificate[] chain = {server.certificate(), ca.certificate(), stranger.certificate()};
    assertThatThrownBy(() -> pinning(Tls.pinOf(stranger.certificate())).checkServerTrusted(chain, "ECDHE_ECDSA"))
        .isInstanceOf(CertificateException.class)
        .hasMessageContaining("pinned");
  }

  @Test
  void pinsAreSha256OfTheKey() {
    assertThat(Tls.pinOf(ca.certificate())).startsWith("sha256/").hasSize("sha256/".length() + 44);
    assertThatThrownBy(() -> Tls.checkPin("sha1/AAAA")).hasMessageContaining("sha256/");
  }

  private X509ExtendedTrustManager pinning(String pin) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.certificate());
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509ExtendedTrustManager extended) {
        return new Tls.PinningTrustManager(extended, Set.of(pin));
      }
    }
    throw new AssertionError("no X509ExtendedTrustManager");
  }
}
