package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS on loopback: only 1.2 and 1.3, and client certificates when required. */
class TlsIT {
  @TempDir Path directory;

  @Test
  void aTls11ClientIsRefused() throws Exception {
    try (HttpsFixture fx = new HttpsFixture()) {
      SSLParameters tls11 = new SSLParameters();
      tls11.setProtocols(new String[] {"TLSv1.1"});
      HttpClient old = HttpClient.newBuilder()
          .sslContext(TestCertificates.clientContext(fx.serverIdentity, null))
          .sslParameters(tls11).connectTimeout(Duration.ofSeconds(5)).build();

      assertThatThrownBy(() -> old.send(HttpRequest.newBuilder(fx.base.resolve("/health/live")).build(),
              HttpResponse.BodyHandlers.ofString()))
          .hasRootCauseInstanceOf(SSLHandshakeException.class);
      assertThat(fx.get("/health/live", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aTls12ClientMayNotRenegotiate() throws Exception {
    // testssl.sh reported client-initiated renegotiation as allowed (a DoS lever: a handshake's
    // worth of server CPU per request on one connection); the setting now says no explicitly.
    assertThat(TlsConfig.keyStore(TestCertificates.selfSigned("localhost").keyStore(), TestCertificates.PASSWORD)
        .sslContextFactory().isRenegotiationAllowed()).isFalse();
    try (HttpsFixture fx = new HttpsFixture();
        java.net.Socket plain = new java.net.Socket("127.0.0.1", fx.https.port());
        javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) TestCertificates.clientContext(fx.serverIdentity, null)
            .getSocketFactory().createSocket(plain, "localhost", fx.https.port(), true)) {
      socket.setEnabledProtocols(new String[] {"TLSv1.2"});
      socket.setSoTimeout(5_000);
      byte[] request = "GET /health/live HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      socket.getOutputStream().write(request);
      assertThat(RawHttps.read(socket.getInputStream(), false).status()).isEqualTo(200);

      assertThatThrownBy(() -> {
        socket.startHandshake(); // on an established TLS 1.2 session: a renegotiation
        socket.getOutputStream().write(request);
        RawHttps.Answer answer = RawHttps.read(socket.getInputStream(), false);
        assertThat(answer.status()).as("an answer after renegotiating").isZero();
        throw new java.io.IOException("no answer: " + answer.failure());
      }).isInstanceOf(java.io.IOException.class);
      assertThat(fx.get("/health/live", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void negotiatesTls13ByDefault() throws Exception {
    try (HttpsFixture fx = new HttpsFixture()) {
      HttpResponse<String> response = fx.get("/health/live", null);
      assertThat(response.sslSession().orElseThrow().getProtocol()).isEqualTo("TLSv1.3");
    }
  }

  @Test
  void prefersAes128GcmWhenTheClientOffersAes256First() throws Exception {
    // The JDK client lists TLS_AES_256_GCM_SHA384 first; the server's order decides.
    try (HttpsFixture fx = new HttpsFixture()) {
      HttpResponse<String> response = fx.get("/health/live", null);
      assertThat(response.sslSession().orElseThrow().getCipherSuite()).isEqualTo("TLS_AES_128_GCM_SHA256");
    }
  }

  @Test
  void withClientCertificatesRequiredAClientWithoutOneIsRefused() throws Exception {
    TestCertificates.Identity agentCa = TestCertificates.selfSigned("agent");
    Path trusted = agentCa.writePem(directory, "agent");
    try (HttpsFixture fx = new HttpsFixture(tls -> tls.requireClientCertificates(trusted), limits -> limits)) {
      assertThatThrownBy(() -> fx.get("/health/live", null)).isInstanceOf(java.io.IOException.class);

      HttpClient withCertificate = HttpsFixture.client(TestCertificates.clientContext(fx.serverIdentity, agentCa));
      HttpResponse<String> response = withCertificate.send(
          HttpRequest.newBuilder(fx.base.resolve("/health/live")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void conscryptCanDoTheTlsWithoutBeingRegisteredJvmWide() throws Exception {
    java.security.Provider conscrypt = org.conscrypt.Conscrypt.newProvider();
    try (HttpsFixture fx = new HttpsFixture(tls -> tls.withProvider(conscrypt), limits -> limits)) {
      HttpResponse<String> response = fx.get("/health/live", null);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.sslSession().orElseThrow().getProtocol()).isEqualTo("TLSv1.3");
      assertThat(java.security.Security.getProvider(conscrypt.getName())).isNull();
    }
  }

  @Test
  void pemFilesAreAccepted() throws Exception {
    TestCertificates.Identity server = TestCertificates.selfSigned("localhost");
    Path crt = server.writePem(directory, "server");
    TlsConfig tls = TlsConfig.pem(crt, directory.resolve("server.key"));
    assertThat(tls.sslContextFactory().getIncludeProtocols()).containsExactly("TLSv1.3", "TLSv1.2");
    Files.writeString(directory.resolve("broken.key"), "not a key");
    assertThatThrownBy(() -> TlsConfig.pem(crt, directory.resolve("broken.key")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BEGIN PRIVATE KEY");
  }
}
