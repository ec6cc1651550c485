package io.egosecure.examples.server;

import io.egosecure.core.IssuedAdminKey;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.TlsConfig;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.SecretKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * The reference server: one command from an empty folder to a policy server on HTTPS.
 *
 * <pre>{@code
 * java -jar egosecure-reference-server.jar --data-dir ./egosecure-data --port 8443
 * }</pre>
 *
 * <p>Tests and embedders call {@link #start} and close the {@link RunningServer} it returns;
 * {@link #main} adds the shutdown hook and the exit status.
 */
public final class ReferenceServer {
  /** The exit status of a server that cannot start: unusable data dir, database, keys or port. */
  public static final int CANNOT_START = 1;

  private static final Logger log = LoggerFactory.getLogger(ReferenceServer.class);
  private static final String PROGRAM = "egosecure-reference-server";

  private ReferenceServer() {}

  /** What {@link #start} did: a running server, or the exit status to end with. */
  public record Launch(int exitStatus, Optional<RunningServer> server) {}

  public static void main(String... args) throws InterruptedException {
    Launch launch = start(System.out, System.err, args);
    if (launch.server().isEmpty()) {
      System.exit(launch.exitStatus());
    }
    RunningServer server = launch.server().get();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "egosecure-shutdown"));
    server.awaitClosed();
  }

  /**
   * Parses {@code args} and starts the server, printing the ready line to {@code out}; or prints
   * help, the version or a one-line reason to {@code err} and returns the exit status.
   */
  public static Launch start(PrintStream out, PrintStream err, String... args) {
    ServerOptions options = new ServerOptions();
    CommandLine commandLine = new CommandLine(options)
        .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    try {
      commandLine.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      err.println(PROGRAM + ": " + StartupException.oneLine(e.getMessage()) + " (see --help)");
      return new Launch(CommandLine.ExitCode.USAGE, Optional.empty());
    }
    if (commandLine.isUsageHelpRequested()) {
      commandLine.usage(commandLine.getOut());
      return new Launch(CommandLine.ExitCode.OK, Optional.empty());
    }
    if (commandLine.isVersionHelpRequested()) {
      commandLine.printVersionHelp(commandLine.getOut());
      return new Launch(CommandLine.ExitCode.OK, Optional.empty());
    }
    try {
      RunningServer server = start(options);
      out.println("EgoSecure server ready at " + server.uri());
      out.flush();
      return new Launch(CommandLine.ExitCode.OK, Optional.of(server));
    } catch (UsageException e) {
      err.println(PROGRAM + ": " + e.getMessage() + " (see --help)");
      return new Launch(CommandLine.ExitCode.USAGE, Optional.empty());
    } catch (StartupException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return new Launch(CANNOT_START, Optional.empty());
    }
  }

  private static RunningServer start(ServerOptions options) throws StartupException {
    PolicySettings settings = PolicySettings.of(options);
    DataDir dataDir = DataDir.open(options.dataDir);
    Storage storage = Storage.open(options, dataDir);
    PolicyServer policyServer = null;
    EgoSecureHttpsServer https = null;
    try {
      KeyVault keyVault = keyVault(dataDir, storage);
      TlsConfig tls = options.insecureHttp ? null : tls(options, dataDir);
      PolicyServer.Builder builder = PolicyServer.builder()
          .store(storage.store())
          .keyVault(keyVault)
          .defaultPolling(settings.polling());
      storage.changeFeed().ifPresent(builder::changeFeed);
      policyServer = builder.build();
      policyServer.start();
      Optional<IssuedAdminKey> operatorKey = policyServer.bootstrapOperatorKey("operator (reference server)");
      if (operatorKey.isPresent()) {
        if (dataDir.exists(DataDir.OPERATOR_KEY)) {
          // A new database beside an old key file (the database was deleted or replaced): the
          // old key opens nothing any more, and keeping it would lock the operator out for good.
          log.warn("the database is new: replacing {}, whose key belonged to an earlier database",
              dataDir.file(DataDir.OPERATOR_KEY));
        }
        dataDir.replaceOwnerOnly(DataDir.OPERATOR_KEY, operatorKey.get().secret() + "\n");
      }
      EgoSecureHttpsServer.Builder httpsBuilder = EgoSecureHttpsServer.builder(policyServer)
          .host(options.host)
          .port(options.port);
      https = (tls == null ? httpsBuilder.insecureHttp() : httpsBuilder.tls(tls)).build();
      https.start();
      URI uri = https.uri();
      dataDir.replaceOwnerOnly(DataDir.URL, uri + "\n");
      log.info("{}; certificate {}; operator key {}", storage.description(),
          tls == null ? "none (plain HTTP)" : certificateName(options, dataDir),
          dataDir.exists(DataDir.OPERATOR_KEY) ? dataDir.file(DataDir.OPERATOR_KEY) : "not in the data dir (created earlier)");
      return new RunningServer(https, policyServer, storage, dataDir, uri);
    } catch (StartupException | RuntimeException e) {
      if (https != null) {
        https.close();
      }
      if (policyServer != null) {
        policyServer.close();
      }
      storage.close();
      if (e instanceof StartupException startup) {
        throw startup;
      }
      // Store, TLS and Jetty failures all say what and where; the stack trace would only bury it.
      throw new StartupException(e.getMessage() != null ? e.getMessage() : e.toString(), e);
    }
  }

  private static String certificateName(ServerOptions options, DataDir dataDir) {
    if (options.keystore != null) {
      return options.keystore.toAbsolutePath().toString();
    }
    return (options.cert != null ? options.cert.toAbsolutePath() : dataDir.file(DataDir.CERTIFICATE)).toString();
  }

  /**
   * The vault of tenants' signing keys, sealed under DIR/master.key. A new installation gets a new
   * master key; an existing database without its master key is refused, since every tenant's
   * signing key would be lost.
   */
  private static KeyVault keyVault(DataDir dataDir, Storage storage) throws StartupException {
    SecretKey masterKey;
    if (dataDir.exists(DataDir.MASTER_KEY)) {
      masterKey = readMasterKey(dataDir);
    } else if (storage.isNew()) {
      masterKey = KeyVault.generateMasterKey();
      dataDir.createOwnerOnly(DataDir.MASTER_KEY, Base64.getEncoder().encodeToString(masterKey.getEncoded()) + "\n");
    } else {
      throw new StartupException(dataDir.file(DataDir.MASTER_KEY) + " is missing but " + storage.description()
          + " is in use: restore the master.key this database was created with");
    }
    KeyVault vault = KeyVault.sealedInStore(storage.store(), masterKey);
    Optional<TenantId> tenant = storage.anyTenant();
    if (tenant.isPresent()) {
      try {
        vault.signingKey(tenant.get());
      } catch (IllegalStateException e) {
        throw new StartupException(dataDir.file(DataDir.MASTER_KEY) + " does not open the signing key of tenant "
            + tenant.get() + ": it is not the master key this database was created with", e);
      }
    }
    return vault;
  }

  private static SecretKey readMasterKey(DataDir dataDir) throws StartupException {
    String text = dataDir.readString(DataDir.MASTER_KEY).strip();
    try {
      return KeyVault.masterKey(Base64.getDecoder().decode(text));
    } catch (IllegalArgumentException e) {
      throw new StartupException(dataDir.file(DataDir.MASTER_KEY) + " does not hold a master key (base64 of "
          + KeyVault.MASTER_KEY_BYTES + " bytes): " + e.getMessage(), e);
    }
  }

  /** The TLS identity: a given key store or PEM pair, else the generated one in the data dir. */
  private static TlsConfig tls(ServerOptions options, DataDir dataDir) throws StartupException {
    try {
      if (options.keystore != null) {
        if (options.keystorePassword == null) {
          throw new UsageException("--keystore needs --keystore-password (or EGOSECURE_KEYSTORE_PASSWORD)");
        }
        return TlsConfig.pkcs12(options.keystore, options.keystorePassword.toCharArray());
      }
      if (options.cert != null) {
        return TlsConfig.pem(options.cert, options.key);
      }
      boolean hasCertificate = dataDir.exists(DataDir.CERTIFICATE);
      boolean hasKey = dataDir.exists(DataDir.PRIVATE_KEY);
      if (hasCertificate != hasKey) {
        throw new StartupException("found " + dataDir.file(hasCertificate ? DataDir.CERTIFICATE : DataDir.PRIVATE_KEY)
            + " without " + dataDir.file(hasCertificate ? DataDir.PRIVATE_KEY : DataDir.CERTIFICATE)
            + ": restore it, or delete both to generate a new certificate");
      }
      if (!hasCertificate) {
        SelfSignedCertificate.Pem pem = SelfSignedCertificate.generate(options.host);
        // The key first: a certificate without its key is the state the check above refuses.
        dataDir.createOwnerOnly(DataDir.PRIVATE_KEY, pem.privateKey());
        dataDir.createOwnerOnly(DataDir.CERTIFICATE, pem.certificate());
      }
      return TlsConfig.pem(dataDir.file(DataDir.CERTIFICATE), dataDir.file(DataDir.PRIVATE_KEY));
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage(), e);
    }
  }

  /** Option values checked before anything is created. */
  private record PolicySettings(PollingSettings polling) {
    static PolicySettings of(ServerOptions options) throws UsageException {
      if (options.port < 0 || options.port > 65_535) {
        throw new UsageException("--port must be 0 to 65535, was " + options.port);
      }
      if (options.keystore != null && (options.cert != null || options.key != null)) {
        throw new UsageException("choose --keystore or --cert and --key, not both");
      }
      if ((options.cert == null) != (options.key == null)) {
        throw new UsageException("--cert and --key go together");
      }
      if (options.insecureHttp && (options.keystore != null || options.cert != null)) {
        throw new UsageException("--insecure-http serves no TLS: drop --keystore, --cert and --key");
      }
      try {
        return new PolicySettings(new PollingSettings(
            Duration.ofSeconds(options.pollIntervalSeconds), PollingSettings.DEFAULT.jitterPercent()));
      } catch (ValidationException e) {
        throw new UsageException("--poll-interval " + e.getMessage().replaceFirst("^intervalSeconds:? ?", ""));
      }
    }
  }

  /** A command line that parses but does not make sense. */
  private static final class UsageException extends StartupException {
    private static final long serialVersionUID = 1L;

    UsageException(String reason) {
      super(reason);
    }
  }
}
