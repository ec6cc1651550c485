package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyAgentBuilderTest {
  @TempDir Path temp;

  private PolicyAgent.Builder complete() {
    return PolicyAgent.builder()
        .server(URI.create("https://policies.example.com"))
        .stateDirectory(temp)
        .applier(set -> ApplyResult.success());
  }

  @Test
  void namesWhatIsMissing() {
    assertThatThrownBy(() -> PolicyAgent.builder().build()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("server(URI) is required");
    assertThatThrownBy(() -> PolicyAgent.builder().server(URI.create("https://a.example")).build())
        .hasMessageContaining("stateDirectory(Path) is required");
    assertThatThrownBy(() -> PolicyAgent.builder().server(URI.create("https://a.example")).stateDirectory(temp).build())
        .hasMessageContaining("applier(PolicyApplier) is required");
  }

  @Test
  void refusesPlainHttpUnlessAskedForDevelopment() {
    assertThatThrownBy(() -> complete().server(URI.create("http://policies.example.com/")).build())
        .hasMessageContaining("insecureHttpForDevelopment()");
    assertThatThrownBy(() -> complete().server(URI.create("ftp://policies.example.com/")).build())
        .hasMessageContaining("https://");
    assertThatThrownBy(() -> complete().server(URI.create("https://policies.example.com/?x=1")))
        .hasMessageContaining("query");
    assertThatThrownBy(() -> complete().server(URI.create("https://user:secret@policies.example.com/")))
        .hasMessageContaining("user info").hasMessageNotContaining("secret");
    complete().server(URI.create("http://127.0.0.1:8080")).insecureHttpForDevelopment().build().close();
  }

  @Test
  void checksTrustMaterialAndPins() {
    assertThatThrownBy(() -> complete().trustCertificates("not a certificate"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> complete().trustCertificates(temp.resolve("missing.pem")))
        .hasMessageContaining("missing.pem");
    assertThatThrownBy(() -> complete().pinPublicKey("md5/abc")).hasMessageContaining("sha256/");
    assertThatThrownBy(() -> complete().pinPublicKey("sha256/AAAA")).hasMessageContaining("32 bytes");
    complete().pinPublicKey("sha256/" + java.util.Base64.getEncoder().encodeToString(new byte[32]));
  }

  @Test
  void refusesNonsenseDurations() {
    assertThatThrownBy(() -> complete().clockSkew(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> complete().maxBackoff(Duration.ofMillis(10))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> complete().pushSilenceTimeout(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> complete().maxResponseBytes(100)).hasMessageContaining("1 KiB");
  }

  @Test
  void startsOnceAndNotAfterClose() {
    PolicyAgent agent = complete().enrollmentToken("est.t.x.y").build();
    agent.start();
    assertThatThrownBy(agent::start).hasMessageContaining("started already");
    agent.close();
    agent.close(); // idempotent
    PolicyAgent closed = complete().build();
    closed.close();
    assertThatThrownBy(closed::start).hasMessageContaining("closed");
    assertThat(closed.current()).isEmpty();
  }

  @Test
  void keepsTheTokenOutOfItsDescription() {
    AgentSettings settings = new AgentSettings(java.util.List.of(URI.create("https://a.example/")), null, null,
        Duration.ofSeconds(1), "est.secret-token", "host", java.util.Map.of(), temp, set -> ApplyResult.success(),
        new PolicyAgentListener() {}, true, false, null, Duration.ZERO, java.time.Clock.systemUTC(),
        new java.util.Random(), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(75),
        Duration.ofSeconds(60), 10, 1 << 20);
    assertThat(settings.toString()).doesNotContain("secret-token");
  }
}
