package io.egosecure.agent;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Agent;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PageRequest;
import io.egosecure.core.wire.Json;
import io.egosecure.store.jdbc.JdbcPolicyStore;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.RateLimit;
import io.egosecure.transport.https.TlsConfig;
import io.egosecure.transport.https.TransportLimits;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import javax.crypto.SecretKey;

/**
 * The real server side on loopback: a PolicyServer on an SQLite file behind the HTTPS transport,
 * with one tenant. It can be stopped and started again on the same port and data, to play an
 * outage. Admin work goes through the PolicyServer API as the operator.
 */
final class LiveServer implements AutoCloseable {
  private final Path directory;
  private final SecretKey masterKey = KeyVault.generateMasterKey();
  final TestCertificate certificate = TestCertificate.selfSigned();
  private final Map<String, Policy> policies = new HashMap<>();
  private PolicyServer policyServer;
  private EgoSecureHttpsServer https;
  private EgoSecureHttpsServer secondNode;
  private Principal operator;
  private int port;
  private final UnaryOperator<TlsConfig> tls;
  final TenantId tenant;

  LiveServer(Path directory, Duration pollInterval) {
    this(directory, pollInterval, 0);
  }

  LiveServer(Path directory, Duration pollInterval, int jitterPercent) {
    this(directory, pollInterval, jitterPercent, UnaryOperator.identity());
  }

  LiveServer(Path directory, Duration pollInterval, int jitterPercent, UnaryOperator<TlsConfig> tls) {
    this.directory = directory;
    this.tls = tls;
    start();
    String operatorKey = policyServer.bootstrapOperatorKey("test").orElseThrow().secret();
    operator = policyServer.authenticateAdmin(operatorKey);
    tenant = policyServer.createTenant(operator, "Acme").id();
    policyServer.updatePolling(operator, tenant, new PollingSettings(pollInterval, jitterPercent));
  }

  void start() {
    policyServer = PolicyServer.builder()
        .store(JdbcPolicyStore.sqlite(directory.resolve("server.db")))
        .masterKey(masterKey)
        .build();
    policyServer.start();
    https = EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(port)
        .tls(tls.apply(TlsConfig.keyStore(certificate.keyStore(), TestCertificate.PASSWORD)))
        .limits(TransportLimits.defaults().toBuilder().enrollRate(new RateLimit(1_000, 1_000)).build())
        .build();
    https.start();
    port = https.uri().getPort();
  }

  /** Stops HTTPS and the policy server; the data stays for {@link #start()}. */
  void stop() {
    https.close();
    if (secondNode != null) {
      secondNode.close();
      secondNode = null;
    }
    policyServer.close();
  }

  /**
   * Serves the same policy server on a second port, as a second node would: the same agents,
   * the same revisions. Returns its URI.
   */
  URI startSecondNode() {
    secondNode = EgoSecureHttpsServer.builder(policyServer)
        .host("127.0.0.1").port(0)
        .tls(tls.apply(TlsConfig.keyStore(certificate.keyStore(), TestCertificate.PASSWORD)))
        .build();
    secondNode.start();
    return URI.create("https://127.0.0.1:" + secondNode.uri().getPort() + "/");
  }

  /** Stops the first node's HTTPS only: its sockets close and its port refuses connections. */
  void stopFirstNode() {
    https.close();
  }

  /** Push sockets the second node holds open now. */
  int secondNodePushSockets() {
    return (int) secondNode.handler().meterRegistry().get("egosecure.push.sockets").gauge().value();
  }

  URI uri() {
    return URI.create("https://127.0.0.1:" + port + "/");
  }

  String enrollmentToken() {
    return policyServer.createEnrollmentToken(operator, tenant, Duration.ofHours(1), 1_000, Set.of()).secret();
  }

  /** Creates or edits a policy for all agents with {@code settings}, and publishes; returns the revision. */
  long publish(String name, String settings) {
    Policy existing = policies.get(name);
    PolicySpec spec = new PolicySpec(name, "device-control", Json.object().setAll(
        (com.fasterxml.jackson.databind.node.ObjectNode) Json.readTree(settings.getBytes())), Targets.allAgents());
    policies.put(name, existing == null
        ? policyServer.createPolicy(operator, tenant, spec)
        : policyServer.updatePolicy(operator, tenant, existing.id(), existing.version(), spec));
    return policyServer.publish(operator, tenant, "test").revision().number();
  }

  Agent agent(AgentId id) {
    return policyServer.agents(operator, tenant, io.egosecure.core.AgentQuery.all(), PageRequest.first(1_000))
        .items().stream().filter(agent -> agent.id().equals(id)).findFirst().orElseThrow();
  }

  /** Push sockets the transport holds open now. */
  int pushSockets() {
    return (int) https.handler().meterRegistry().get("egosecure.push.sockets").gauge().value();
  }

  /** Polls the transport has answered since it last started (200s and 304s). */
  long polls() {
    long polls = 0;
    for (io.micrometer.core.instrument.Counter counter : https.handler().meterRegistry().find("egosecure.polls").counters()) {
      polls += (long) counter.count();
    }
    return polls;
  }

  void revoke(AgentId id) {
    policyServer.revokeAgent(operator, tenant, id);
  }

  @Override
  public void close() {
    stop();
  }
}
