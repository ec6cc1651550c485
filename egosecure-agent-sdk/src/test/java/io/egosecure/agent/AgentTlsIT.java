package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whom the agent trusts, and how it proves itself: trust anchors, key pins, client certificates. */
class AgentTlsIT {
  private static final Duration SOON = Duration.ofSeconds(10);

  @TempDir Path temp;
  private LiveServer server;
  private PolicyAgent agent;
  private final RecordingListener listener = new RecordingListener();

  @AfterEach
  void stopAll() {
    if (agent != null) {
      agent.close();
    }
    if (server != null) {
      server.close();
    }
  }

  private void startAgent(UnaryOperator<PolicyAgent.Builder> options) {
    agent = options.apply(PolicyAgent.builder()
        .server(server.uri())
        .enrollmentToken(server.enrollmentToken())
        .stateDirectory(temp.resolve("agent"))
        .listener(listener)
        .push(false)
        .applier(set -> ApplyResult.success())).build();
    agent.start();
  }

  @Test
  void aServerOutsideTheTrustAnchorsIsRefused() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    startAgent(b -> b); // the system's trust store does not know the test certificate

    assertUnreachable();
  }

  @Test
  void aPinnedKeyIsAccepted() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    long revision = server.publish("usb", "{\"block\": true}");
    startAgent(b -> b.trustCertificates(server.certificate.pem())
        .pinPublicKey(Tls.pinOf(TestCertificate.selfSigned().certificate())) // a backup pin
        .pinPublicKey(Tls.pinOf(server.certificate.certificate())));

    listener.awaitApplied(revision, SOON);
  }

  @Test
  void aTrustedServerWithoutThePinnedKeyIsRefused() throws Exception {
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60));
    startAgent(b -> b.trustCertificates(server.certificate.pem())
        .pinPublicKey(Tls.pinOf(TestCertificate.selfSigned().certificate())));

    assertUnreachable();
  }

  @Test
  void aClientCertificateOpensAServerThatRequiresOne() throws Exception {
    TestCertificate client = TestCertificate.selfSigned();
    Path trusted = Files.writeString(temp.resolve("agents.crt"), client.pem(), StandardCharsets.US_ASCII);
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60), 0,
        tls -> tls.requireClientCertificates(trusted));
    long revision = server.publish("usb", "{\"block\": true}");

    startAgent(b -> b.trustCertificates(server.certificate.pem())
        .clientCertificate(client.keyStore(), TestCertificate.PASSWORD));

    listener.awaitApplied(revision, SOON);
  }

  @Test
  void withoutAClientCertificateSuchAServerIsUnreachable() throws Exception {
    Path trusted = Files.writeString(temp.resolve("agents.crt"), TestCertificate.selfSigned().pem(),
        StandardCharsets.US_ASCII);
    server = new LiveServer(temp.resolve("server"), Duration.ofSeconds(60), 0,
        tls -> tls.requireClientCertificates(trusted));

    startAgent(b -> b.trustCertificates(server.certificate.pem()));

    assertUnreachable();
  }

  private void assertUnreachable() throws InterruptedException {
    RecordingListener.Event error = listener.await("error", SOON);
    assertThat(((PolicyAgentException) error.detail()).kind()).isEqualTo(PolicyAgentException.Kind.SERVER_UNAVAILABLE);
    listener.assertNone("enrolled");
    assertThat(temp.resolve("agent").resolve(StateDirectory.IDENTITY)).doesNotExist();
  }
}
