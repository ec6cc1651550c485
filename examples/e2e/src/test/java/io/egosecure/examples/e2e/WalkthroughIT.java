package io.egosecure.examples.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's walkthrough, end to end: the reference server from its entry point on a temp data
 * dir and port 0, the console's commands in process, an agent speaking the protocol over real
 * TLS on loopback; then a restart on the same data dir that must keep everything.
 */
class WalkthroughIT {
  @TempDir Path temp;

  private Path dataDir;
  private Terminal terminal;
  private URI url;

  private void startServer() throws Exception {
    terminal.startServer();
    url = terminal.url;
  }

  @AfterEach
  void stopServer() {
    if (terminal != null) {
      terminal.close();
    }
  }

  private Terminal.Run console(Path keyFile, String... args) {
    return terminal.console(keyFile, args);
  }

  private JsonNode json(Path keyFile, String... args) {
    return terminal.json(keyFile, args);
  }

  private HttpClient agentHttp() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(dataDir.resolve("server.crt"))) {
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trust.setCertificateEntry("server", certificate);
      }
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(5)).build();
  }

  @Test
  void walkthroughSurvivesARestart() throws Exception {
    dataDir = temp.resolve("egosecure-data");
    terminal = new Terminal(dataDir);
    startServer();
    Path operator = dataDir.resolve("operator.key");

    // Operator: a tenant and its admin, whose key does the rest.
    String tenant = json(operator, "tenants", "create", "Acme").path("id").asText();
    JsonNode adminKey = json(operator, "admin-keys", "create", "alice", "--tenant", tenant);
    assertThat(adminKey.path("role").asText()).isEqualTo("TENANT_ADMIN");
    Path alice = Files.writeString(temp.resolve("alice.key"), adminKey.path("key").asText() + "\n");

    // A policy for all staff, from a settings file, published.
    Path settings = Files.writeString(temp.resolve("usb.json"), "{\"usb\": \"block\", \"exceptions\": []}");
    JsonNode policy = json(alice, "policies", "create", "-t", tenant, "--name", "Block USB",
        "--kind", "device-control", "--settings", "@" + settings, "--all");
    String policyId = policy.path("id").asText();
    assertThat(json(alice, "publish", "-t", tenant, "--comment", "block USB for all staff").path("revision").asLong())
        .isEqualTo(1);
    String token = json(alice, "enrollment-tokens", "create", "-t", tenant, "--max-uses", "2").path("token").asText();

    // An agent enrolls and polls: the signed set holds the policy.
    HttpClient http = agentHttp();
    Agent agent = Agent.enroll(http, url, token, "host-01");
    Agent.Poll first = agent.poll(url, null, 0);
    assertThat(first.status()).isEqualTo(200);
    assertThat(first.body().path("revision").asLong()).isEqualTo(1);
    assertThat(first.body().path("policies").path(0).path("name").asText()).isEqualTo("Block USB");
    assertThat(first.body().path("policies").path(0).path("settings").path("usb").asText()).isEqualTo("block");
    agent.reportApplied(url, 1);
    assertThat(agent.poll(url, first.etag().orElseThrow(), 0).status()).isEqualTo(304);

    // The compliance view: the console sees what the agent applied.
    JsonNode agents = json(alice, "agents", "list", "-t", tenant);
    assertThat(agents).hasSize(1);
    assertThat(agents.path(0).path("appliedRevision").asLong()).isEqualTo(1);
    assertThat(agents.path(0).path("lastSeenAt").isNull()).isFalse();
    Terminal.Run table = console(alice, "agents", "list", "-t", tenant);
    assertThat(table.out()).contains("host-01", "up to date");
    JsonNode compliance = json(alice, "compliance", "-t", tenant);
    assertThat(compliance.path("revision").asLong()).isEqualTo(1);
    assertThat(compliance.path("applied").asLong()).isEqualTo(1);

    // Errors come from the server's problem+json, with distinct exit statuses.
    Terminal.Run missing = console(operator, "tenants", "show", "t-doesnotexist");
    assertThat(missing.status()).isEqualTo(5);
    assertThat(missing.err()).contains("(404)").contains("t-doesnotexist");
    Terminal.Run forbidden = console(alice, "admin-keys", "list");
    assertThat(forbidden.status()).isEqualTo(4);
    assertThat(forbidden.err()).contains("(403)");
    Terminal.Run stale = console(alice, "policies", "update", policyId, "-t", tenant, "--version", "99", "--name", "x");
    assertThat(stale.status()).isEqualTo(6);
    assertThat(stale.err()).contains("(412)");

    // Restart on the same data dir: tenants, keys, revisions and the agent's credential remain.
    String etag = first.etag().orElseThrow();
    terminal.stopServer();
    startServer();
    http = agentHttp();
    agent = Agent.withCredential(http, agent.id, agent.credential, agent.signingKey);

    assertThat(json(operator, "tenants", "list")).anySatisfy(t -> assertThat(t.path("name").asText()).isEqualTo("Acme"));
    JsonNode revisions = json(alice, "revisions", "-t", tenant);
    assertThat(revisions).extracting(r -> r.path("revision").asLong()).containsExactly(1L, 0L);
    assertThat(revisions.path(0).path("comment").asText()).isEqualTo("block USB for all staff");
    assertThat(agent.poll(url, etag, 0).status()).as("same set, same ETag after a restart").isEqualTo(304);

    // And the story goes on: a change, published, reaches the agent's long poll.
    json(alice, "policies", "update", policyId, "-t", tenant, "--settings", "{\"usb\": \"read-only\"}");
    assertThat(json(alice, "publish", "-t", tenant, "-m", "read-only USB").path("revision").asLong()).isEqualTo(2);
    Agent.Poll second = agent.poll(url, etag, 10);
    assertThat(second.status()).isEqualTo(200);
    assertThat(second.body().path("revision").asLong()).isEqualTo(2);
    assertThat(second.body().path("policies").path(0).path("settings").path("usb").asText()).isEqualTo("read-only");

    // The token's second use still enrolls a second agent.
    Agent another = Agent.enroll(http, url, token, "host-02");
    assertThat(another.poll(url, null, 0).body().path("revision").asLong()).isEqualTo(2);
  }
}
