package io.egosecure.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.AgentIdentity;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.PollResult;
import io.egosecure.core.Principal;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.RateLimit;
import io.egosecure.transport.https.TlsConfig;
import io.egosecure.transport.https.TransportLimits;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import org.conscrypt.Conscrypt;
import org.eclipse.jetty.server.AbstractConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The server side of {@code benchmarks/poll-vs-nginx.sh}: the real HTTPS server on 127.0.0.1
 * with one tenant, a PolicySet of about 2 KB and one enrolled agent. It writes, into the work
 * folder, {@code poll.json} (the agent's exact 200 body, for nginx to serve as a static file of
 * the same size), {@code credential}, {@code etag} and {@code url}, then serves until killed.
 *
 * <p>Arguments: the work folder (holding {@code bench.crt} and {@code bench.key}) and the port.
 */
public final class PollBenchmarkServer {
  private PollBenchmarkServer() {}

  /**
   * The baseline: Jetty with the same TLS, connector and HTTP settings and a handler that answers
   * 304 with the ETag and does nothing else. The gap between it and the real server is this
   * project's. {@code -Dbench.ioThreads} and {@code -Dbench.acceptors} set all three servers'.
   */
  private static Server bareServer(Path work, int port, String etag) throws Exception {
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    keyStore.load(null, null);
    var certificate = CertificateFactory.getInstance("X.509")
        .generateCertificate(Files.newInputStream(work.resolve("bench.crt")));
    String pem = Files.readString(work.resolve("bench.key"));
    byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    var key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    keyStore.setKeyEntry("k", key, "x".toCharArray(), new java.security.cert.Certificate[] {certificate});
    SslContextFactory.Server ssl = new SslContextFactory.Server();
    ssl.setKeyStore(keyStore);
    ssl.setKeyStorePassword("x");
    ssl.setIncludeProtocols("TLSv1.3", "TLSv1.2");
    QueuedThreadPool threads = new QueuedThreadPool(200);
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    http.addCustomizer(new SecureRequestCustomizer(false));
    ServerConnector connector = new ServerConnector(server, Integer.getInteger("bench.acceptors", -1),
        Integer.getInteger("bench.ioThreads", -1), AbstractConnectionFactory.getFactories(ssl, new HttpConnectionFactory(http)));
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    connector.setIdleTimeout(120_000);
    server.addConnector(connector);
    // Non-blocking, as EgoSecure's poll path is: Jetty answers it on the I/O thread.
    server.setHandler(new Handler.Abstract.NonBlocking() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        response.setStatus(304);
        response.getHeaders().put("ETag", etag);
        response.write(true, ByteBuffer.allocate(0), callback);
        return true;
      }
    });
    return server;
  }

  private static EgoSecureHttpsServer.Builder connector(EgoSecureHttpsServer.Builder builder) {
    Integer ioThreads = Integer.getInteger("bench.ioThreads");
    Integer acceptors = Integer.getInteger("bench.acceptors");
    if (ioThreads != null) {
      builder.ioThreads(ioThreads);
    }
    if (acceptors != null) {
      builder.acceptors(acceptors);
    }
    return builder;
  }

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args[0]);
    int port = Integer.parseInt(args[1]);
    PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build();
    policyServer.start();
    Principal operator = policyServer.authenticateAdmin(policyServer.bootstrapOperatorKey("bench").orElseThrow().secret());
    Tenant tenant = policyServer.createTenant(operator, "Bench");
    for (int i = 0; i < 6; i++) {
      ObjectNode settings = JsonNodeFactory.instance.objectNode();
      settings.put("mode", "block").put("description", "removable media rule " + i + " ".repeat(40));
      settings.putArray("allow").add("VID_0781&PID_5567").add("VID_0951&PID_1666");
      policyServer.createPolicy(operator, tenant.id(), new PolicySpec("policy-" + i, "device-control", settings, Targets.allAgents()));
    }
    policyServer.publish(operator, tenant.id(), "bench");
    String token = policyServer.createEnrollmentToken(operator, tenant.id(), Duration.ofHours(1), 1, Set.of()).secret();
    String credential = policyServer.enroll(token, "bench-agent", Map.of()).credential();
    AgentIdentity agent = policyServer.authenticateAgent(credential);
    PollResult.Changed first = (PollResult.Changed) policyServer.poll(agent, Optional.empty(), Duration.ZERO).join();
    ByteBuffer body = first.policySet().json();
    byte[] bytes = new byte[body.remaining()];
    body.get(bytes);

    // wrk hammers one credential: lift the per-agent limit for the run.
    TransportLimits limits = TransportLimits.defaults().toBuilder()
        .agentRate(new RateLimit(10_000_000, 10_000_000)).build();
    EgoSecureHttpsServer https = connector(EgoSecureHttpsServer.builder(policyServer))
        .host("127.0.0.1").port(port).limits(limits)
        .tls(TlsConfig.pem(work.resolve("bench.crt"), work.resolve("bench.key")))
        .build();
    https.start();
    Server bare = bareServer(work, port + 2, first.etag());
    bare.start();
    // The same server with Conscrypt (BoringSSL) doing the TLS.
    EgoSecureHttpsServer conscrypt = connector(EgoSecureHttpsServer.builder(policyServer))
        .host("127.0.0.1").port(port + 4).limits(limits)
        .tls(TlsConfig.pem(work.resolve("bench.crt"), work.resolve("bench.key"))
            .withProvider(Conscrypt.newProvider()))
        .build();
    conscrypt.start();
    Files.write(work.resolve("poll.json"), bytes);
    Files.writeString(work.resolve("credential"), credential);
    Files.writeString(work.resolve("etag"), first.etag());
    Files.writeString(work.resolve("url"), https.uri().resolve("/v1/agent/policies").toString());
    System.out.println("ready " + https.uri() + " body " + bytes.length + " bytes");
    Thread.currentThread().join();
  }
}
