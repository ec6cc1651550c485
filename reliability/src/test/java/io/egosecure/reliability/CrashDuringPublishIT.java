package io.egosecure.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.egosecure.core.model.PolicySet;
import io.egosecure.core.wire.Json;
import io.egosecure.reliability.AdminApi.Answer;
import io.egosecure.reliability.AdminApi.Draft;
import io.egosecure.reliability.AdminApi.RevisionEntry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issue 8, item 1: {@code kill -9} the reference server while it publishes, start it again on the
 * same data, and check that nothing acknowledged was lost and nothing half-written exists.
 *
 * <p>Each publish first sets the one policy's settings to {@code {"counter": i}} and then
 * publishes with the comment {@code "publish i"}, so every revision says what it must contain.
 * After each restart: every acknowledged (201) revision is listed with its comment; no comment is
 * listed twice; revision numbers run 1..n without a hole; every stored revision holds exactly the
 * counter its comment names (read from the database itself, the only place older revisions'
 * content can be seen); and an SDK agent converges to the newest revision, which is the last
 * acknowledged one or a later one whose commit outran its answer.
 *
 * <p>{@code -Dreliability.trials=N} sets the trials per database (CI: 5; documented: 50).
 */
class CrashDuringPublishIT {
  private static final Logger log = LoggerFactory.getLogger(CrashDuringPublishIT.class);
  private static final int TRIALS = Integer.getInteger("reliability.trials", 5);
  private static final Duration MAX_KILL_DELAY = Duration.ofMillis(1500);
  private static final Duration CONVERGENCE_TIMEOUT = Duration.ofSeconds(30);
  private static final Pattern COMMENT = Pattern.compile("publish (\\d+)");
  private static final String POLICY_NAME = "crash-test";

  @TempDir Path temp;

  @Test
  void sqliteLosesNoAcknowledgedPublishAcrossKillMinus9() throws Exception {
    Path data = temp.resolve("data");
    Trials trials = new Trials(data, List.of(), Map.of(), () -> DriverManager.getConnection("jdbc:sqlite:" + data.resolve("egosecure.db")));
    trials.run("SQLite");
  }

  @Test
  void postgresLosesNoAcknowledgedPublishAcrossKillMinus9() throws Exception {
    PostgresServer.requireServer();
    String database = PostgresServer.createDatabase("egosecure_rel_crash_");
    try {
      String url = PostgresServer.urlOf(database);
      Trials trials = new Trials(temp.resolve("data"),
          List.of("--database", url, "--database-user", PostgresServer.USER),
          Map.of("EGOSECURE_DATABASE_PASSWORD", PostgresServer.PASSWORD),
          () -> PostgresServer.connect(url));
      trials.run("PostgreSQL");
    } finally {
      PostgresServer.dropDatabase(database);
    }
  }

  @FunctionalInterface
  private interface DatabaseConnector {
    Connection connect() throws SQLException;
  }

  /** The trials against one database: one data dir, one tenant, one agent, restarted N times. */
  private final class Trials {
    private final Path dataDir;
    private final List<String> arguments;
    private final Map<String, String> environment;
    private final DatabaseConnector database;
    private final SplittableRandom random = new SplittableRandom();
    private final AtomicLong counter = new AtomicLong();
    /** Acknowledged revision → the counter it was published with. */
    private final Map<Long, Long> acknowledged = new ConcurrentSkipListMap<>();
    private ReferenceServerProcess server;
    private AdminApi admin;
    private String tenant;
    private volatile Draft draft;
    /** Committed-but-unanswered revisions found by earlier trials, so each trial reports its own. */
    private int unacknowledgedBefore;

    Trials(Path dataDir, List<String> arguments, Map<String, String> environment, DatabaseConnector database) {
      this.dataDir = dataDir;
      this.arguments = arguments;
      this.environment = environment;
      this.database = database;
    }

    void run(String name) throws Exception {
      try (ReferenceServerProcess started = ReferenceServerProcess.start(dataDir, arguments, environment)) {
        server = started;
        admin = new AdminApi(server.httpClient(), server::uri, server.operatorKey());
        tenant = admin.createTenant("crash " + name);
        draft = admin.createPolicy(tenant, POLICY_NAME, Json.object().put("counter", 0));
        String token = admin.enrollmentToken(tenant, 1);
        try (RecordingAgent agent = RecordingAgent.start("crash-agent", server.uri(), server.certificate(), token,
            temp.resolve("agent-" + name))) {
          int committedUnacknowledged = 0;
          long killDelays = 0;
          for (int trial = 1; trial <= TRIALS; trial++) {
            int before = acknowledged.size();
            long killDelayMillis = publishUntilKilled();
            killDelays += killDelayMillis;
            server.start();
            draft = admin.policy(tenant, draft.id());
            int unacknowledged = verify(agent);
            committedUnacknowledged += unacknowledged;
            log.info("{} trial {}/{}: killed {} ms into publishing; {} acknowledged, {} committed but unanswered; all present, none partial",
                name, trial, TRIALS, killDelayMillis, acknowledged.size() - before, unacknowledged);
          }
          log.info("{}: {} kill -9 trials, {} acknowledged publishes all kept, {} committed without an answer, mean kill delay {} ms",
              name, TRIALS, acknowledged.size(), committedUnacknowledged, killDelays / TRIALS);
        }
      }
    }

    /** Publishes in a loop and kills the server at a random moment; returns how long into publishing. */
    private long publishUntilKilled() throws Exception {
      CountDownLatch firstAcknowledged = new CountDownLatch(1);
      AtomicBoolean stopping = new AtomicBoolean();
      AtomicReference<Throwable> unexpected = new AtomicReference<>();
      Thread publisher = new Thread(() -> {
        try {
          while (!stopping.get()) {
            publishOnce(firstAcknowledged);
          }
        } catch (IOException e) {
          // The server died mid-request: the expected end of a trial.
        } catch (Throwable e) {
          unexpected.set(e);
        }
      }, "crash-publisher");
      publisher.start();
      assertThat(firstAcknowledged.await(60, TimeUnit.SECONDS)).as("a first publish acknowledged").isTrue();
      long delayMillis = random.nextLong(MAX_KILL_DELAY.toMillis());
      Thread.sleep(delayMillis);
      stopping.set(true);
      server.kill();
      publisher.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(publisher.isAlive()).as("the publisher gave up once the server died").isFalse();
      if (unexpected.get() != null) {
        throw new AssertionError("the publisher failed before the kill", unexpected.get());
      }
      return delayMillis;
    }

    private void publishOnce(CountDownLatch firstAcknowledged) throws IOException, InterruptedException {
      long i = counter.incrementAndGet();
      Answer updated = admin.updatePolicy(tenant, draft, POLICY_NAME, Json.object().put("counter", i));
      if (updated.status() == 429) {
        backOff(updated);
        return;
      }
      updated.expect(200);
      draft = new Draft(draft.id(), updated.json().path("version").asLong());
      Answer published = admin.publish(tenant, "publish " + i);
      if (published.status() == 429) {
        backOff(published);
        return;
      }
      published.expect(201);
      acknowledged.put(published.json().path("revision").asLong(), i);
      firstAcknowledged.countDown();
    }

    private void backOff(Answer tooMany) throws InterruptedException {
      long seconds = tooMany.header("Retry-After").map(Long::parseLong).orElse(1L);
      Thread.sleep(TimeUnit.SECONDS.toMillis(Math.min(seconds, 5)));
    }

    /** Checks the restarted server; returns how many revisions were committed but never answered. */
    private int verify(RecordingAgent agent) throws Exception {
      List<RevisionEntry> revisions = admin.revisions(tenant);
      Map<Long, String> comments = new HashMap<>();
      Set<String> seenComments = new HashSet<>();
      for (RevisionEntry entry : revisions) {
        if (entry.revision() == 0) {
          continue; // the tenant's empty starting revision, there before any publish
        }
        assertThat(comments.put(entry.revision(), entry.comment())).as("revision %d listed once", entry.revision()).isNull();
        if (!entry.comment().isEmpty()) {
          assertThat(seenComments.add(entry.comment())).as("'%s' published once", entry.comment()).isTrue();
        }
      }
      long newest = revisions.stream().mapToLong(RevisionEntry::revision).max().orElse(0);
      assertThat(comments.keySet()).as("revisions 1..%d without a hole", newest).hasSize((int) newest);
      acknowledged.forEach((revision, i) ->
          assertThat(comments.get(revision)).as("acknowledged revision %d", revision).isEqualTo("publish " + i));

      Map<Long, Long> stored = storedCounters();
      assertThat(stored.keySet()).as("stored revisions").isEqualTo(comments.keySet());
      int unacknowledged = 0;
      for (Map.Entry<Long, String> entry : comments.entrySet()) {
        Matcher matcher = COMMENT.matcher(entry.getValue());
        assertThat(matcher.matches()).as("comment of revision %d", entry.getKey()).isTrue();
        long expected = Long.parseLong(matcher.group(1));
        assertThat(stored.get(entry.getKey())).as("content of revision %d", entry.getKey()).isEqualTo(expected);
        if (!acknowledged.containsKey(entry.getKey())) {
          unacknowledged++;
        }
      }
      long lastAcknowledged = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
      assertThat(newest).isGreaterThanOrEqualTo(lastAcknowledged);

      agent.pollNow();
      assertThat(agent.awaitRevision(newest, CONVERGENCE_TIMEOUT)).as("agent reaches revision %d", newest).isTrue();
      PolicySet inForce = agent.current().orElseThrow();
      assertThat(inForce.revision()).isEqualTo(newest);
      assertThat(inForce.policies()).hasSize(1);
      Matcher newestComment = COMMENT.matcher(comments.get(newest));
      assertThat(newestComment.matches()).isTrue();
      assertThat(inForce.policies().get(0).settings().path("counter").asLong())
          .as("the agent's revision %d carries its own content", newest).isEqualTo(Long.parseLong(newestComment.group(1)));
      int thisTrial = unacknowledged - unacknowledgedBefore;
      unacknowledgedBefore = unacknowledged;
      return thisTrial;
    }

    /**
     * Each revision's counter as the database holds it. Older revisions' content is visible only
     * there (the API lists revisions without their policies), so the test reads the store's table.
     */
    private Map<Long, Long> storedCounters() throws SQLException {
      Map<Long, Long> counters = new HashMap<>();
      try (Connection connection = database.connect();
          PreparedStatement query = connection.prepareStatement(
              "SELECT revision_number, policies FROM revisions WHERE tenant_id = ?")) {
        query.setString(1, tenant);
        try (ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            if (rows.getLong(1) == 0) {
              continue;
            }
            JsonNode policies = Json.readTree(rows.getString(2).getBytes(StandardCharsets.UTF_8));
            List<JsonNode> values = new ArrayList<>(policies.findValues("counter"));
            assertThat(values).as("revision %d holds one counter: %s", rows.getLong(1), policies).hasSize(1);
            counters.put(rows.getLong(1), values.get(0).asLong());
          }
        }
      }
      return counters;
    }
  }
}
