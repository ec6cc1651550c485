package io.egosecure.benchmarks;

import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.PollingSettings;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.wire.Json;
import io.egosecure.transport.https.EgoSecureHttpsServer;
import io.egosecure.transport.https.TlsConfig;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The agent SDK's footprint: an agent in a JVM of its own (only the SDK and its dependencies on
 * the class path) against the real server in this one, idle for a sample window, with and without
 * push. Prints the agent's threads, its heap after a collection, its CPU over the window, and the
 * size of the SDK jar and its dependencies beside Jackson.
 *
 * <pre>
 * mvn -q -B install -DskipTests -DskipITs
 * mvn -q -B -pl benchmarks exec:java -Dexec.mainClass=io.egosecure.benchmarks.AgentFootprintBenchmark -Dexec.args="120"
 * </pre>
 *
 * <p>Argument: the idle sample in seconds (default 120; the server polls the agent every 60 s
 * and pings its push socket every 30 s, so a sample shorter than a minute says little).
 */
public final class AgentFootprintBenchmark {
  /** What the SDK needs at run time; everything else on this JVM's class path is the server's. */
  private static final List<String> SDK_JARS =
      List.of("egosecure-agent-sdk", "egosecure-core", "Java-WebSocket", "slf4j-api", "java-json-canonicalization");
  private static final List<String> JACKSON_JARS = List.of("jackson-databind", "jackson-core",
      "jackson-annotations", "jackson-datatype-jsr310");

  private AgentFootprintBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sampleSeconds = args.length > 0 ? Integer.parseInt(args[0]) : 120;
    Path work = Files.createTempDirectory("egosecure-footprint");
    Path keyStore = work.resolve("server.p12");
    keytool("-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "san=dns:localhost,ip:127.0.0.1", "-validity", "2",
        "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", "footprint");
    Path certificate = work.resolve("server.crt");
    keytool("-exportcert", "-rfc", "-alias", "server", "-keystore", keyStore.toString(),
        "-storepass", "footprint", "-file", certificate.toString());

    List<Path> sdkJars = classPath(SDK_JARS);
    List<Path> jacksonJars = classPath(JACKSON_JARS);
    long sdkBytes = 0;
    for (Path jar : sdkJars) {
      sdkBytes += Files.size(jar);
    }
    System.out.printf("SDK and its own dependencies (beside Jackson): %.2f MB in %d jars%n", sdkBytes / 1e6, sdkJars.size());
    for (Path jar : sdkJars) {
      System.out.printf("  %-45s %7.1f KB%n", jar.getFileName(), Files.size(jar) / 1e3);
    }

    try (PolicyServer policyServer = PolicyServer.builder().store(PolicyStore.inMemory())
        .masterKey(KeyVault.generateMasterKey()).build()) {
      policyServer.start();
      Principal operator = policyServer.authenticateAdmin(policyServer.bootstrapOperatorKey("bench").orElseThrow().secret());
      TenantId tenant = policyServer.createTenant(operator, "Footprint").id();
      policyServer.updatePolling(operator, tenant, new PollingSettings(Duration.ofSeconds(60), 10));
      for (int i = 0; i < 20; i++) {
        policyServer.createPolicy(operator, tenant, new PolicySpec("policy-" + i, "device-control",
            Json.object().put("block", i % 2 == 0).put("note", "x".repeat(50)), Targets.allAgents()));
      }
      policyServer.publish(operator, tenant, "footprint");
      try (EgoSecureHttpsServer https = EgoSecureHttpsServer.builder(policyServer).host("127.0.0.1").port(0)
          .tls(TlsConfig.pkcs12(keyStore, "footprint".toCharArray())).build()) {
        https.start();
        for (boolean push : new boolean[] {false, true}) {
          String token = policyServer.createEnrollmentToken(operator, tenant, Duration.ofHours(1), 1, Set.of()).secret();
          List<Path> classPath = new ArrayList<>(sdkJars);
          classPath.addAll(jacksonJars);
          classPath.add(Path.of(AgentFootprintProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
          Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "-Xmx64m", "-cp", String.join(File.pathSeparator, classPath.stream().map(Path::toString).toList()),
              AgentFootprintProbe.class.getName(), https.uri().toString(), certificate.toString(), token,
              work.resolve("agent-" + push).toString(), Boolean.toString(push), Integer.toString(sampleSeconds))
              .redirectErrorStream(true).start();
          String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          probe.waitFor();
          output.lines().filter(line -> line.startsWith("footprint")).forEach(System.out::println);
          if (probe.exitValue() != 0) {
            System.out.println(output);
            throw new IllegalStateException("the probe failed");
          }
        }
      }
    }
  }

  private static List<Path> classPath(List<String> artifacts) throws Exception {
    List<URL> urls = new ArrayList<>();
    ClassLoader loader = AgentFootprintBenchmark.class.getClassLoader();
    if (loader instanceof URLClassLoader urlLoader) {
      urls.addAll(List.of(urlLoader.getURLs()));
    }
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(Path.of(entry).toUri().toURL());
    }
    List<Path> jars = new ArrayList<>();
    for (String artifact : artifacts) {
      Path found = null;
      for (URL url : urls) {
        Path path = Path.of(url.toURI());
        String name = path.getFileName().toString();
        if (name.startsWith(artifact + "-") && name.endsWith(".jar") && !name.contains("tests")) {
          found = path;
        }
      }
      if (found == null) {
        throw new IllegalStateException(artifact + " is not on the class path; run `mvn install` first");
      }
      jars.add(found);
    }
    return jars;
  }

  private static void keytool(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (process.waitFor() != 0) {
      throw new IllegalStateException("keytool failed: " + output);
    }
  }
}
