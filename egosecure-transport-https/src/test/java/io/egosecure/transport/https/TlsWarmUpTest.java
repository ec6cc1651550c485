package io.egosecure.transport.https;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TLS warm-up against real key stores and a real server: handshakes done, bounds kept. */
class TlsWarmUpTest {
  @TempDir Path directory;

  @Test
  void completesFullHandshakesUpToTheCount() throws Exception {
    TestCertificates.Identity identity = TestCertificates.selfSigned("localhost");
    TlsConfig tls = TlsConfig.keyStore(identity.keyStore(), TestCertificates.PASSWORD);
    SslContextFactory.Server factory = tls.sslContextFactory();
    factory.start();
    try {
      assertThat(TlsWarmUp.run(factory, tls.certificateChain(), 20, Duration.ofSeconds(20))).isEqualTo(20);
    } finally {
      factory.stop();
    }
  }

  @Test
  void stopsWhenTheTimeIsUp() throws Exception {
    TestCertificates.Identity identity = TestCertificates.selfSigned("localhost");
    TlsConfig tls = TlsConfig.keyStore(identity.keyStore(), TestCertificates.PASSWORD);
    SslContextFactory.Server factory = tls.sslContextFactory();
    factory.start();
    try {
      long start = System.nanoTime();
      int done = TlsWarmUp.run(factory, tls.certificateChain(), 1_000_000, Duration.ofMillis(300));
      long took = System.nanoTime() - start;
      assertThat(done).isPositive().isLessThan(1_000_000);
      // The time is checked between handshakes: past it by one handshake at most, which a busy
      // machine may stretch, never by the count.
      assertThat(Duration.ofNanos(took)).isLessThan(Duration.ofSeconds(5));
    } finally {
      factory.stop();
    }
  }

  @Test
  void aPemIdentityWarmsUpToo() throws Exception {
    Path crt = TestCertificates.selfSigned("localhost").writePem(directory, "server");
    TlsConfig tls = TlsConfig.pem(crt, directory.resolve("server.key"));
    SslContextFactory.Server factory = tls.sslContextFactory();
    factory.start();
    try {
      assertThat(TlsWarmUp.run(factory, tls.certificateChain(), 3, Duration.ofSeconds(20))).isEqualTo(3);
    } finally {
      factory.stop();
    }
  }

  @Test
  void aClientTrustingAnotherCertificateFailsWithoutThrowing() throws Exception {
    TlsConfig tls = TlsConfig.keyStore(TestCertificates.selfSigned("localhost").keyStore(), TestCertificates.PASSWORD);
    TlsConfig other = TlsConfig.keyStore(TestCertificates.selfSigned("other").keyStore(), TestCertificates.PASSWORD);
    SslContextFactory.Server factory = tls.sslContextFactory();
    factory.start();
    try {
      assertThat(TlsWarmUp.run(factory, other.certificateChain(), 3, Duration.ofSeconds(20))).isZero();
    } finally {
      factory.stop();
    }
  }

  @Test
  void theServerWarmsUpByDefaultAndStillServes() throws Exception {
    try (HttpsFixture fixture = new HttpsFixture(UnaryOperator.identity(), UnaryOperator.identity(),
        server -> server.tlsWarmUp(Duration.ofSeconds(1)))) {
      assertThat(fixture.https.warmUpTls()).isPositive().isLessThanOrEqualTo(TlsWarmUp.MAX_HANDSHAKES);
      assertThat(fixture.get("/health/live", null).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void zeroTurnsItOff() throws Exception {
    try (HttpsFixture fixture = new HttpsFixture(UnaryOperator.identity(), UnaryOperator.identity(),
        server -> server.tlsWarmUp(Duration.ZERO))) {
      assertThat(fixture.https.warmUpTls()).isZero();
    }
  }

  @Test
  void mutualTlsAndPlainHttpSkipIt() throws Exception {
    Path clients = TestCertificates.selfSigned("agent").writePem(directory, "agent");
    try (HttpsFixture fixture = new HttpsFixture(tls -> tls.requireClientCertificates(clients), UnaryOperator.identity())) {
      assertThat(fixture.https.warmUpTls()).isZero();
    }
    try (PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build()) {
      policyServer.start();
      try (EgoSecureHttpsServer server = EgoSecureHttpsServer.builder(policyServer).host("127.0.0.1").port(0)
          .insecureHttp().build()) {
        server.start();
        assertThat(server.warmUpTls()).isZero();
      }
    }
  }

  @Test
  void refusesInvalidTimes() throws Exception {
    try (PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build()) {
      EgoSecureHttpsServer.Builder builder = EgoSecureHttpsServer.builder(policyServer);
      assertThatThrownBy(() -> builder.tlsWarmUp(Duration.ofMillis(-1))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> builder.tlsWarmUp(Duration.ofSeconds(31))).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> builder.tlsWarmUp(null)).isInstanceOf(NullPointerException.class);
      assertThat(builder.tlsWarmUp(Duration.ZERO)).isSameAs(builder);
      assertThat(builder.tlsWarmUp(Duration.ofSeconds(30))).isSameAs(builder);
    }
  }
}
