package io.egosecure.transport.https;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Full TLS handshakes in memory (a pair of SSLEngines, no socket) against the server's own
 * SSLContext, run before the server is ready. After a restart every agent reconnects at once with
 * a full handshake, and a cold JVM spends that storm running the elliptic-curve arithmetic
 * (ECDSA signing, X25519) interpreted or in C1 while its JIT compilers compete for the same
 * cores; a few hundred handshakes first let the JIT compile that code before the agents arrive.
 */
final class TlsWarmUp {
  /**
   * Handshakes at most: where a handshake's cost stops falling. Measured (JDK 17, EC P-256 key,
   * 2 busy cores, CPU of client and server sides together): the 1st costs 47 ms, the 2nd to 10th
   * 8 ms, 26th to 100th 5 ms, 201st to 300th 3.9 ms, 751st to 1000th 3.2 ms, and 3.1 ms from
   * there to the 3000th.
   */
  static final int MAX_HANDSHAKES = 1000;
  /**
   * The default time bound. In the measurement above 2 s held about 300 handshakes: most of the
   * fall (47 ms to 3.9 ms), leaving the last fifth to the agents rather than holding start for
   * the 5.6 s that 1,000 took. A larger or idler machine gets further in the same time.
   */
  static final Duration DEFAULT_TIME = Duration.ofSeconds(2);
  /** The largest time bound allowed, so that a mistaken setting cannot hold start for long. */
  static final Duration MAX_TIME = Duration.ofSeconds(30);
  /** A handshake is a few flights; more steps than this means the engines are stuck. */
  private static final int MAX_STEPS = 64;
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  private static final Logger log = LoggerFactory.getLogger(TlsWarmUp.class);

  private TlsWarmUp() {}

  /**
   * Runs handshakes until {@code maxHandshakes} completed or {@code time} is up, whichever comes
   * first; logs one line. Never throws: a warm-up that fails costs only a slower first storm.
   *
   * @param server the server's started factory; its SSLContext, protocols and suites are used
   * @param serverChain the certificate chain the server presents; the client trusts its first
   * @return the handshakes completed
   */
  static int run(SslContextFactory.Server server, Certificate[] serverChain, int maxHandshakes, Duration time) {
    long start = System.nanoTime();
    long deadline = start + time.toNanos();
    int done = 0;
    try {
      SSLContext client = clientContext(serverChain[0]);
      while (done < maxHandshakes && System.nanoTime() - deadline < 0) {
        handshake(server, client);
        done++;
      }
      log.info("TLS warm-up: {} handshakes in {} ms", done, (System.nanoTime() - start) / 1_000_000);
    } catch (Exception | LinkageError e) {
      log.info("TLS warm-up stopped after {} handshakes in {} ms, serving anyway: {}", done,
          (System.nanoTime() - start) / 1_000_000, e.toString());
    }
    return done;
  }

  /**
   * A JDK client trusting exactly the server's certificate: nothing else could complete a
   * handshake, and no trust-all manager exists to be misused. No host name is checked (none is
   * set): the certificate itself is the trust anchor, and the engines talk only to each other.
   */
  private static SSLContext clientContext(Certificate serverCertificate) throws GeneralSecurityException, java.io.IOException {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("server", serverCertificate);
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trustManagers.getTrustManagers(), null);
    return context;
  }

  /** One full handshake; both sessions are invalidated after so no cache keeps them. */
  static void handshake(SslContextFactory.Server factory, SSLContext clientContext) throws SSLException {
    SSLEngine server = factory.getSslContext().createSSLEngine();
    server.setUseClientMode(false);
    factory.customize(server);
    // No peer host or port: the client's cache cannot offer a session, so every handshake is full.
    SSLEngine client = clientContext.createSSLEngine();
    client.setUseClientMode(true);
    client.setEnabledProtocols(server.getEnabledProtocols());
    List<String> clientSuites = Arrays.asList(client.getSupportedCipherSuites());
    client.setEnabledCipherSuites(Arrays.stream(server.getEnabledCipherSuites())
        .filter(clientSuites::contains).toArray(String[]::new));
    int size = 4 * Math.max(server.getSession().getPacketBufferSize(), client.getSession().getPacketBufferSize());
    ByteBuffer toServer = ByteBuffer.allocate(size);
    ByteBuffer toClient = ByteBuffer.allocate(size);
    ByteBuffer application = ByteBuffer.allocate(size);
    client.beginHandshake();
    server.beginHandshake();
    for (int step = 0; step < MAX_STEPS; step++) {
      if (finished(client, toClient) && finished(server, toServer)) {
        client.getSession().invalidate();
        server.getSession().invalidate();
        return;
      }
      step(client, toClient, toServer, application);
      step(server, toServer, toClient, application);
    }
    throw new SSLException("the warm-up handshake did not finish in " + MAX_STEPS + " steps");
  }

  private static boolean finished(SSLEngine engine, ByteBuffer in) {
    return engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING && in.position() == 0;
  }

  /** Lets {@code engine} do what it can: run its tasks, write its flight, read what it was sent. */
  private static void step(SSLEngine engine, ByteBuffer in, ByteBuffer out, ByteBuffer application) throws SSLException {
    for (int i = 0; i < MAX_STEPS; i++) {
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK -> {
          for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
          }
        }
        case NEED_WRAP -> {
          SSLEngineResult result = check(engine.wrap(EMPTY, out));
          if (result.bytesProduced() == 0 && result.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            return;
          }
        }
        default -> {
          // NEED_UNWRAP, or done with records still to read (a TLS 1.3 session ticket)
          if (in.position() == 0) {
            return;
          }
          in.flip();
          SSLEngineResult result;
          try {
            result = check(engine.unwrap(in, application));
          } finally {
            in.compact();
            application.clear();
          }
          if (result.bytesConsumed() == 0) {
            return;
          }
        }
      }
    }
  }

  private static SSLEngineResult check(SSLEngineResult result) throws SSLException {
    if (result.getStatus() != SSLEngineResult.Status.OK) {
      throw new SSLException("warm-up handshake: " + result.getStatus() + ", " + result.getHandshakeStatus());
    }
    return result;
  }
}
