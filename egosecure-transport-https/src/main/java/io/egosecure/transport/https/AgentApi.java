package io.egosecure.transport.https;

import io.egosecure.core.AgentIdentity;
import io.egosecure.core.Enrollment;
import io.egosecure.core.PollResult;
import io.egosecure.core.UnauthenticatedException;
import io.egosecure.core.wire.AgentMessages;
import io.egosecure.core.wire.Json;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.http.HttpHeader;

/** The agent API of PROTOCOL.md: enroll, poll (plain and long), report status. */
final class AgentApi {
  static final String POLL_PATH = "/v1/agent/policies";
  /** The poll route's name in metrics, as {@link Routes} names it. */
  static final String POLL_ROUTE = "GET " + POLL_PATH;
  static final String POLL_INTERVAL_HEADER = AgentMessages.POLL_INTERVAL_HEADER;
  static final String POLL_JITTER_HEADER = AgentMessages.POLL_JITTER_HEADER;
  private static final long OVERLOAD_RETRY_SECONDS = 5;

  private final Transport transport;

  AgentApi(Transport transport) {
    this.transport = transport;
  }

  void register(Routes routes) {
    routes.add("POST", "/v1/agent/enroll", this::enroll)
        .add("GET", POLL_PATH, this::poll)
        .add("POST", "/v1/agent/status", this::status);
  }

  private Reply enroll(Call call) {
    AgentMessages.EnrollRequest request =
        call.body(AgentMessages.EnrollRequest.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS,
            transport.limits().maxAgentBodyBytes());
    call.limitEnrollment(request.token());
    Enrollment enrollment;
    try {
      enrollment = transport.policyServer().enroll(request.token(), request.name(), request.labels());
    } catch (UnauthenticatedException e) {
      transport.enrollFailed();
      throw e;
    }
    return Reply.json(201, new AgentMessages.EnrollResponse(
        enrollment.agent().id().value(),
        enrollment.agent().tenantId().value(),
        enrollment.credential(),
        enrollment.polling().interval().toSeconds(),
        enrollment.polling().jitterPercent(),
        enrollment.signingKeys().stream().map(AgentMessages.SigningKeyInfo::of).toList()));
  }

  private Reply poll(Call call) {
    AgentIdentity agent = call.agent();
    long waitSeconds = call.queryLong("wait", 0, TransportLimits.PROTOCOL_MAX_WAIT.toSeconds(), 0);
    Duration wait = Duration.ofSeconds(waitSeconds);
    if (wait.compareTo(transport.limits().maxWait()) > 0) {
      wait = transport.limits().maxWait();
    }
    Optional<String> etag = call.header(HttpHeader.IF_NONE_MATCH).map(String::strip);
    if (!wait.isZero() && transport.policyServer().parkedPolls() >= transport.limits().maxParkedPolls()) {
      throw HttpProblem.retryAfter(Problem.OVERLOADED,
          "this node holds " + transport.limits().maxParkedPolls() + " long polls, its limit",
          OVERLOAD_RETRY_SECONDS);
    }
    CompletableFuture<PollResult> result = transport.policyServer().poll(agent, etag, wait);
    if (result.isDone()) {
      return reply(result.join());
    }
    // The client may go away while the poll is parked: cancelling releases it at once.
    call.request().addFailureListener(failure -> result.cancel(false));
    return Reply.later(result.thenApply(this::reply));
  }

  /**
   * The common poll answered from memory without blocking: no query, an {@code If-None-Match}
   * still current, an agent this node holds. Null if this cannot answer; {@link #poll} then
   * answers, with the same result for what this did answer.
   *
   * @throws HttpProblem if the agent is over its rate limit
   */
  Reply.Now pollFromMemory(Call call) {
    if (call.request().getHttpURI().getQuery() != null) {
      return null;
    }
    Optional<String> etag = call.header(HttpHeader.IF_NONE_MATCH).map(String::strip);
    if (etag.isEmpty()) {
      return null;
    }
    Optional<AgentIdentity> agent = call.knownAgent();
    if (agent.isEmpty()) {
      return null;
    }
    Optional<PollResult.NotModified> unchanged = transport.policyServer().pollIfUnchanged(agent.get(), etag.get());
    return unchanged.isPresent() ? reply(unchanged.get()) : null;
  }

  private Reply.Now reply(PollResult result) {
    Reply.Now reply;
    if (result instanceof PollResult.Changed changed) {
      reply = Reply.bytes(200, changed.policySet().json());
      transport.polled(true);
    } else {
      reply = Reply.empty(304);
      transport.polled(false);
    }
    return reply
        .header("ETag", result.etag())
        .header("Cache-Control", "no-store")
        .header(POLL_INTERVAL_HEADER, Long.toString(result.polling().interval().toSeconds()))
        .header(POLL_JITTER_HEADER, Integer.toString(result.polling().jitterPercent()));
  }

  private Reply status(Call call) {
    AgentIdentity agent = call.agent();
    AgentMessages.StatusReport report =
        call.body(AgentMessages.StatusReport.class, Json.Strictness.IGNORE_UNKNOWN_FIELDS,
            transport.limits().maxAgentBodyBytes());
    transport.policyServer().reportStatus(agent, report.revision(), report.state(), report.message());
    return Reply.empty(204);
  }
}
