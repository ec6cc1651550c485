package io.egosecure.examples.server;

import io.egosecure.core.PolicyServer;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A started reference server. {@link #close()} stops accepting connections, lets requests in
 * flight finish, then closes the policy server and the store; it is what SIGTERM and SIGINT run.
 */
public final class RunningServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RunningServer.class);
  private final EgoSecureHttpsServer https;
  private final PolicyServer policyServer;
  private final Storage storage;
  private final DataDir dataDir;
  private final URI uri;
  private final CountDownLatch closed = new CountDownLatch(1);
  private boolean closing;

  RunningServer(EgoSecureHttpsServer https, PolicyServer policyServer, Storage storage, DataDir dataDir, URI uri) {
    this.https = https;
    this.policyServer = policyServer;
    this.storage = storage;
    this.dataDir = dataDir;
    this.uri = uri;
  }

  /** Where agents and the console reach it, as printed in the ready line and DIR/server.url. */
  public URI uri() {
    return uri;
  }

  public Path dataDir() {
    return dataDir.root();
  }

  /** Blocks until {@link #close()} has finished. */
  public void awaitClosed() throws InterruptedException {
    closed.await();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
    }
    try {
      // Each part on its own: a failure to stop one must not leave the store open.
      closeQuietly(https::close, "the HTTPS server");
      closeQuietly(policyServer::close, "the policy server");
      closeQuietly(storage::close, "the store");
    } finally {
      dataDir.deleteQuietly(DataDir.URL);
      closed.countDown();
    }
  }

  private static void closeQuietly(Runnable close, String what) {
    try {
      close.run();
    } catch (RuntimeException e) {
      log.warn("stopping {} failed: {}", what, e.toString());
    }
  }
}
