package io.egosecure.benchmarks;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.conscrypt.Conscrypt;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The benchmarks' certificate and their simulated agents' HTTP clients, on loopback only.
 *
 * <p>One client address to one server port runs out at about 28,000 ephemeral ports, so the
 * simulated agents spread their sources over {@value #SOURCE_ADDRESSES} addresses, 127.0.0.2 to
 * 127.0.0.9 (DEPENDENCIES.md). The target is always 127.0.0.1.
 */
final class LoopbackTls {
  static final int SOURCE_ADDRESSES = 8;

  private LoopbackTls() {}

  /** A self-signed P-256 certificate for localhost and 127.0.0.1 in {@code WORK/bench.p12}, made by keytool. */
  static void createKeyStore(Path work) throws Exception {
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", "bench",
        "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
        "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
        "-storetype", "PKCS12", "-keystore", work.resolve("bench.p12").toString(),
        "-storepass", BenchmarkServer.PASSWORD)
        .redirectErrorStream(true).redirectOutput(work.resolve("keytool.log").toFile()).start();
    if (process.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + Files.readString(work.resolve("keytool.log")));
    }
  }

  static KeyStore trustStore(Path work) throws Exception {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(work.resolve("bench.p12"))) {
      keys.load(in, BenchmarkServer.PASSWORD.toCharArray());
    }
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("bench", keys.getCertificate("bench"));
    return trust;
  }

  /**
   * A Jetty client bound to source address 127.0.0.(2 + index % 8), not yet started.
   *
   * <p>Each simulated agent is a TLS client of its own: a full handshake, as a newly started agent
   * makes, not a resumption of another agent's session. Without session caching Jetty gives the
   * engine no peer host, so the host name cannot be checked; the chain still is, against the
   * benchmark's own certificate.
   *
   * @param conscrypt whether the client's TLS runs on Conscrypt: the simulated agents stand for
   *     thousands of machines, and on Conscrypt they take less of the cores they share with the server
   */
  static HttpClient httpClient(Path work, int index, int connections, Executor executor, boolean conscrypt) throws Exception {
    SslContextFactory.Client ssl = new SslContextFactory.Client();
    KeyStore trust = trustStore(work);
    if (conscrypt) {
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trust);
      SSLContext context = SSLContext.getInstance("TLS", Conscrypt.newProvider());
      context.init(null, trustManagers.getTrustManagers(), null);
      ssl.setSslContext(context);
    } else {
      ssl.setTrustStore(trust);
    }
    ssl.setSessionCachingEnabled(false);
    ssl.setEndpointIdentificationAlgorithm(null);
    ClientConnector connector = new ClientConnector();
    connector.setSslContextFactory(ssl);
    connector.setSelectors(1);
    connector.setBindAddress(new InetSocketAddress("127.0.0." + (2 + index % SOURCE_ADDRESSES), 0));
    HttpClient http = new HttpClient(new HttpClientTransportOverHTTP(connector));
    http.setExecutor(executor);
    http.setMaxConnectionsPerDestination(connections);
    http.setIdleTimeout(TimeUnit.MINUTES.toMillis(5));
    http.setConnectTimeout(TimeUnit.SECONDS.toMillis(30));
    return http;
  }
}
