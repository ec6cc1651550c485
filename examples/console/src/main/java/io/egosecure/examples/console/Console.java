package io.egosecure.examples.console;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The EgoSecure console: the admin API from a terminal.
 *
 * <pre>{@code
 * java -jar egosecure-console.jar tenants create Acme
 * java -jar egosecure-console.jar --server https://policy.example.com/ --key-file admin.key tenants list
 * }</pre>
 */
@Command(
    name = "egosecure-console",
    mixinStandardHelpOptions = true,
    versionProvider = Console.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    description = {
      "Manages an EgoSecure policy server through its admin API.",
      "Without --server it talks to a reference server started in this folder: it reads"
          + " server.url, server.crt and operator.key from ./" + Console.LOCAL_DATA_DIR + "."
    },
    subcommands = {
      TenantCommands.class,
      AdminKeyCommands.class,
      PollingCommands.class,
      EnrollmentTokenCommands.class,
      PolicyCommands.class,
      PublishCommand.class,
      RevisionCommands.class,
      RestoreCommand.class,
      AgentCommands.class,
      ComplianceCommand.class,
      AuditCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {
      "",
      "Exit status: 0 done, 1 local failure, 2 bad command line, 3 server unreachable,"
          + " 4 key not allowed (401/403), 5 not found (404), 6 conflict (409/412/428),"
          + " 7 request rejected (other 4xx), 8 server error (5xx)."
    })
public final class Console {
  static final String LOCAL_DATA_DIR = "egosecure-data";

  @Spec CommandSpec spec;

  @Option(
      names = "--server",
      paramLabel = "URL",
      defaultValue = "${env:EGOSECURE_SERVER}",
      description = "The server, e.g. https://policy.example.com:8443/. Default: EGOSECURE_SERVER, else ./"
          + LOCAL_DATA_DIR + "/server.url")
  URI server;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      defaultValue = "${env:EGOSECURE_CA}",
      description = "PEM certificate(s) to trust: the server's CA or its self-signed certificate."
          + " Default: EGOSECURE_CA; without --server ./" + LOCAL_DATA_DIR + "/server.crt; else the JDK's CAs")
  Path ca;

  @Option(
      names = "--key-file",
      paramLabel = "FILE",
      description = "File holding the admin key. Default: the key in EGOSECURE_KEY; without --server ./"
          + LOCAL_DATA_DIR + "/operator.key")
  Path keyFile;

  @Option(names = "--json", description = "Print the server's JSON instead of tables.")
  boolean json;

  private final Path workingDirectory;
  private final Optional<String> environmentKey;
  private AdminClient client;
  private Output output;

  Console(Path workingDirectory, Optional<String> environmentKey) {
    this.workingDirectory = workingDirectory;
    this.environmentKey = environmentKey;
  }

  public static void main(String... args) {
    System.exit(run(System.out, System.err, args));
  }

  /** Runs one command and returns its exit status; see the usage footer for their meaning. */
  public static int run(PrintStream out, PrintStream err, String... args) {
    return run(Path.of(""), Optional.ofNullable(System.getenv("EGOSECURE_KEY")), out, err, args);
  }

  static int run(Path workingDirectory, Optional<String> environmentKey, PrintStream out, PrintStream err,
      String... args) {
    Console console = new Console(workingDirectory, environmentKey);
    CommandLine commandLine = new CommandLine(console)
        // "--settings @policy.json" names a settings file, not picocli's argument file.
        .setExpandAtFiles(false)
        .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          if (e instanceof ApiException api) {
            cmd.getErr().println("egosecure-console: " + api.getMessage());
            return api.exitStatus();
          }
          throw e;
        })
        .setParameterExceptionHandler((e, args2) -> {
          e.getCommandLine().getErr().println("egosecure-console: " + e.getMessage()
              + " (see " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
          return ExitStatus.USAGE;
        });
    return commandLine.execute(args);
  }

  Output output() {
    if (output == null) {
      output = new Output(spec.commandLine().getOut(), json);
    }
    return output;
  }

  /** The client for this command line's server and key, made on first use. */
  AdminClient client() throws ApiException {
    if (client == null) {
      Path local = workingDirectory.resolve(LOCAL_DATA_DIR);
      URI url = server;
      Optional<Path> trusted = Optional.ofNullable(ca);
      if (url == null) {
        Path urlFile = local.resolve("server.url");
        if (!Files.exists(urlFile)) {
          throw usage("give --server URL (no reference server found: " + urlFile.toAbsolutePath() + " does not exist)");
        }
        url = URI.create(read(urlFile));
        if (trusted.isEmpty() && Files.exists(local.resolve("server.crt"))) {
          trusted = Optional.of(local.resolve("server.crt"));
        }
      }
      if (url.getPath() == null || url.getPath().isEmpty()) {
        url = url.resolve("/");
      }
      client = new AdminClient(url, trusted, key(local));
    }
    return client;
  }

  private String key(Path local) throws ApiException {
    if (keyFile != null) {
      return read(keyFile);
    }
    if (environmentKey.isPresent() && !environmentKey.get().isBlank()) {
      return environmentKey.get().strip();
    }
    if (server == null && Files.exists(local.resolve("operator.key"))) {
      return read(local.resolve("operator.key"));
    }
    throw usage("give --key-file FILE or set EGOSECURE_KEY to an admin key");
  }

  private ApiException usage(String message) {
    return new ApiException(ExitStatus.USAGE, message);
  }

  private static String read(Path file) throws ApiException {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new ApiException(ExitStatus.FAILED, "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Console.class.getPackage().getImplementationVersion();
      return new String[] {"egosecure-console " + (version == null ? "(development build)" : version)};
    }
  }
}
