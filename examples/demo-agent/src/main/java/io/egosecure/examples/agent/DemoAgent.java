package io.egosecure.examples.agent;

import io.egosecure.agent.ApplyResult;
import io.egosecure.agent.PolicyAgent;
import io.egosecure.agent.PolicyAgentException;
import io.egosecure.agent.PolicyAgentListener;
import io.egosecure.agent.Rejection;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.model.TenantId;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The agent SDK in a terminal: one agent, or a small fleet with {@code --count}, each printing one
 * line per event. Its "applier" only prints what it would enforce, which is all a demo needs.
 *
 * <pre>
 * java -jar egosecure-demo-agent.jar --token est.… --state-dir agent-1
 * java -jar egosecure-demo-agent.jar --server https://policy.example.com/ --ca ca.pem --token est.… --count 5
 * </pre>
 */
@Command(
    name = "egosecure-demo-agent",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    usageHelpAutoWidth = true,
    showDefaultValues = true,
    description = {
      "Runs EgoSecure agents built on the agent SDK and prints one line per event:"
          + " enrolled, applied (with the policy names), rejected, stale, revoked, error.",
      "Without --server it joins a reference server started in this folder: it reads server.url"
          + " and server.crt from ./" + DemoAgent.LOCAL_DATA_DIR + ". Ctrl-C stops it; its state stays"
          + " for the next start, which needs no token."
    })
public final class DemoAgent {
  static final String LOCAL_DATA_DIR = "egosecure-data";
  private static final String PROGRAM = "egosecure-demo-agent";

  @Option(names = "--server", paramLabel = "URL",
      description = "The policy server. Default: the URL in ./" + LOCAL_DATA_DIR + "/server.url")
  URI server;

  @Option(names = "--ca", paramLabel = "FILE",
      description = "PEM certificate(s) to trust. Default: without --server ./" + LOCAL_DATA_DIR
          + "/server.crt, else the JDK's CAs")
  Path ca;

  @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:EGOSECURE_TOKEN}",
      showDefaultValue = CommandLine.Help.Visibility.NEVER, // a secret: --help must not print it
      description = "Enrollment token; needed on the first start only. Default: EGOSECURE_TOKEN")
  String token;

  @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = "agent-state",
      description = "Where the agent keeps its credential and last-known-good set;"
          + " with --count, one folder per agent under it")
  Path stateDir;

  @Option(names = "--count", paramLabel = "N", defaultValue = "1", description = "How many agents to run (1-100)")
  int count;

  @Option(names = "--name", paramLabel = "NAME",
      description = "The name administrators see (with --count: NAME-1, NAME-2, ...). Default: this host's name")
  String name;

  @Option(names = "--no-push", negatable = false, description = "Do not hold a push socket; rely on polls")
  boolean noPush;

  @Option(names = "--long-poll", description = "Let each poll wait at the server for a change")
  boolean longPoll;

  /** What {@link #start} gives: the agents running, or why not, with the exit status to use. */
  public record Launch(int exitStatus, Optional<Fleet> fleet) {}

  public static void main(String... args) throws InterruptedException {
    Launch launch = start(System.out, System.err, args);
    if (launch.fleet().isEmpty()) {
      System.exit(launch.exitStatus());
    }
    Fleet fleet = launch.fleet().get();
    Runtime.getRuntime().addShutdownHook(new Thread(fleet::close, "egosecure-demo-agent-shutdown"));
    fleet.awaitClosed();
  }

  /**
   * Parses {@code args} and starts the agents. Problems with the command line or the files it
   * names end in one line on {@code err} and a non-zero exit status, never a stack trace.
   */
  public static Launch start(PrintStream out, PrintStream err, String... args) {
    return start(Path.of(""), out, err, args);
  }

  static Launch start(Path workingDirectory, PrintStream out, PrintStream err, String... args) {
    DemoAgent options = new DemoAgent();
    CommandLine commandLine = new CommandLine(options)
        .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    try {
      commandLine.parseArgs(args);
    } catch (CommandLine.ParameterException e) {
      err.println(PROGRAM + ": " + e.getMessage() + " (see --help)");
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
      return new Launch(CommandLine.ExitCode.OK, Optional.of(options.run(workingDirectory, out)));
    } catch (IllegalArgumentException e) {
      err.println(PROGRAM + ": " + e.getMessage());
      return new Launch(CommandLine.ExitCode.USAGE, Optional.empty());
    }
  }

  private Fleet run(Path workingDirectory, PrintStream out) {
    if (count < 1 || count > 100) {
      throw new IllegalArgumentException("--count is 1 to 100, not " + count);
    }
    Path local = workingDirectory.resolve(LOCAL_DATA_DIR);
    URI url = server;
    Path trusted = ca;
    if (url == null) {
      Path urlFile = local.resolve("server.url");
      if (!Files.exists(urlFile)) {
        throw new IllegalArgumentException("give --server URL (no reference server found: "
            + urlFile.toAbsolutePath() + " does not exist)");
      }
      url = URI.create(read(urlFile));
      if (trusted == null && Files.exists(local.resolve("server.crt"))) {
        trusted = local.resolve("server.crt");
      }
    }
    List<PolicyAgent> agents = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String label = count == 1 ? (name != null ? name : "agent") : (name != null ? name : "agent") + "-" + i;
      PolicyAgent.Builder builder = PolicyAgent.builder()
          .server(url)
          .stateDirectory(count == 1 ? workingDirectory.resolve(stateDir) : workingDirectory.resolve(stateDir).resolve(label))
          .push(!noPush)
          .longPoll(longPoll)
          .listener(new PrintingListener(out, label))
          .applier(set -> ApplyResult.success());
      if (trusted != null) {
        builder.trustCertificates(trusted);
      }
      if ("http".equalsIgnoreCase(url.getScheme())) {
        out.println("[" + label + "] WARNING: plain HTTP: credentials and policies travel in clear; development only");
        builder.insecureHttpForDevelopment();
      }
      if (token != null && !token.isBlank()) {
        builder.enrollmentToken(token.strip());
      }
      if (name != null || count > 1) {
        builder.agentName(count == 1 ? name : label);
      }
      agents.add(builder.build());
    }
    agents.forEach(PolicyAgent::start);
    return new Fleet(agents);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** The running agents; closing stops them all. */
  public static final class Fleet implements AutoCloseable {
    private final List<PolicyAgent> agents;
    private final CountDownLatch closed = new CountDownLatch(1);

    Fleet(List<PolicyAgent> agents) {
      this.agents = List.copyOf(agents);
    }

    public List<PolicyAgent> agents() {
      return agents;
    }

    public void awaitClosed() throws InterruptedException {
      closed.await();
    }

    /** Closes the agents together: one by one, a hundred would take a hundred times as long. */
    @Override
    public void close() {
      agents.parallelStream().forEach(PolicyAgent::close);
      closed.countDown();
    }
  }

  /** One line per event, prefixed with the agent's label. */
  private static final class PrintingListener implements PolicyAgentListener {
    private final PrintStream out;
    private final String label;

    PrintingListener(PrintStream out, String label) {
      this.out = out;
      this.label = label;
    }

    @Override
    public void enrolled(AgentId agentId, TenantId tenantId) {
      print("enrolled as " + agentId.value() + " in tenant " + tenantId.value());
    }

    @Override
    public void applied(PolicySet set) {
      String names = set.policies().isEmpty() ? "no policies"
          : set.policies().stream().map(PolicySet.Entry::name).collect(Collectors.joining(", "));
      print("applied revision " + set.revision() + ": " + names);
    }

    @Override
    public void rejected(Rejection rejection) {
      print("rejected" + (rejection.revision().isPresent() ? " revision " + rejection.revision().getAsLong() : "")
          + ": " + rejection.message());
    }

    @Override
    public void stale(PolicySet lastKnownGood) {
      print("stale: revision " + lastKnownGood.revision() + " expired at " + lastKnownGood.expiresAt()
          + " and the server cannot be reached; still enforcing it");
    }

    @Override
    public void revoked() {
      print("revoked: the server no longer accepts this agent; still enforcing the last set");
    }

    @Override
    public void error(PolicyAgentException problem) {
      print("error: " + problem.getMessage());
    }

    private void print(String line) {
      out.println("[" + label + "] " + line);
    }
  }
}
