package io.egosecure.transport.https;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Every bound the transport enforces, each named and configurable. Past a bound the server
 * answers with a problem (413, 429 or 503 with {@code Retry-After}), never with a hang or a 500.
 *
 * <pre>{@code
 * TransportLimits limits = TransportLimits.defaults().toBuilder()
 *     .maxParkedPolls(50_000)
 *     .agentRate(new RateLimit(5, 50))
 *     .build();
 * }</pre>
 *
 * @param maxAdminBodyBytes admin request bodies (default 1 MiB)
 * @param maxAgentBodyBytes agent request bodies (default 64 KiB)
 * @param maxWait the longest long poll; a longer {@code ?wait} is shortened silently (default
 *     60 s, PROTOCOL.md's ceiling)
 * @param maxParkedPolls long polls parked at once on this node; past it a poll is answered 503
 *     (default 20,000)
 * @param maxPushSockets push sockets open at once on this node; past it the upgrade is answered
 *     503 (default 20,000)
 * @param enrollRate per enrollment token (default 1/s, bursts of 20)
 * @param agentRate per agent, polls and status reports together (default 2/s, bursts of 20)
 * @param adminRate per admin key (default 50/s, bursts of 200)
 * @param maxRequestHeaderBytes the request line and headers together (default 8 KiB); past it 431
 * @param idleTimeout how long an idle connection stays open; longer than the usual poll interval
 *     plus jitter, so agents reuse their TLS connection (default 120 s)
 * @param pushPingInterval how often the server pings a push socket (default 30 s)
 * @param minRequestBytesPerSecond the slowest a request body may arrive; a slower one fails, so
 *     slow senders cannot hold request threads (default 1 KiB/s)
 */
public record TransportLimits(
    long maxAdminBodyBytes,
    long maxAgentBodyBytes,
    Duration maxWait,
    int maxParkedPolls,
    int maxPushSockets,
    RateLimit enrollRate,
    RateLimit agentRate,
    RateLimit adminRate,
    int maxRequestHeaderBytes,
    Duration idleTimeout,
    Duration pushPingInterval,
    long minRequestBytesPerSecond) {

  /** PROTOCOL.md: {@code ?wait} is 0 to 60 seconds. */
  public static final Duration PROTOCOL_MAX_WAIT = Duration.ofSeconds(60);

  public TransportLimits {
    positive(maxAdminBodyBytes, "maxAdminBodyBytes");
    positive(maxAgentBodyBytes, "maxAgentBodyBytes");
    requireNonNull(maxWait, "maxWait == null");
    if (maxWait.isNegative() || maxWait.compareTo(PROTOCOL_MAX_WAIT) > 0) {
      throw new IllegalArgumentException("maxWait must be 0 to 60 s, was " + maxWait);
    }
    positive(maxParkedPolls, "maxParkedPolls");
    positive(maxPushSockets, "maxPushSockets");
    requireNonNull(enrollRate, "enrollRate == null");
    requireNonNull(agentRate, "agentRate == null");
    requireNonNull(adminRate, "adminRate == null");
    if (maxRequestHeaderBytes < 1024) {
      throw new IllegalArgumentException(
          "maxRequestHeaderBytes cannot be less than 1024, was " + maxRequestHeaderBytes);
    }
    requireNonNull(idleTimeout, "idleTimeout == null");
    if (idleTimeout.compareTo(maxWait.plusSeconds(5)) < 0) {
      throw new IllegalArgumentException(
          "idleTimeout must exceed maxWait by 5 s so a long poll is not cut off; was "
              + idleTimeout + " with maxWait " + maxWait);
    }
    requireNonNull(pushPingInterval, "pushPingInterval == null");
    if (pushPingInterval.toSeconds() < 1) {
      throw new IllegalArgumentException("pushPingInterval cannot be less than 1 s, was " + pushPingInterval);
    }
    positive(minRequestBytesPerSecond, "minRequestBytesPerSecond");
  }

  private static void positive(long value, String name) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be positive, was " + value);
    }
  }

  public static TransportLimits defaults() {
    return new TransportLimits(
        1L << 20,
        64L << 10,
        PROTOCOL_MAX_WAIT,
        20_000,
        20_000,
        new RateLimit(1, 20),
        new RateLimit(2, 20),
        new RateLimit(50, 200),
        8 << 10,
        Duration.ofSeconds(120),
        Duration.ofSeconds(30),
        1024);
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Changes some limits, keeping the others. */
  public static final class Builder {
    private long maxAdminBodyBytes;
    private long maxAgentBodyBytes;
    private Duration maxWait;
    private int maxParkedPolls;
    private int maxPushSockets;
    private RateLimit enrollRate;
    private RateLimit agentRate;
    private RateLimit adminRate;
    private int maxRequestHeaderBytes;
    private Duration idleTimeout;
    private Duration pushPingInterval;
    private long minRequestBytesPerSecond;

    private Builder(TransportLimits from) {
      maxAdminBodyBytes = from.maxAdminBodyBytes;
      maxAgentBodyBytes = from.maxAgentBodyBytes;
      maxWait = from.maxWait;
      maxParkedPolls = from.maxParkedPolls;
      maxPushSockets = from.maxPushSockets;
      enrollRate = from.enrollRate;
      agentRate = from.agentRate;
      adminRate = from.adminRate;
      maxRequestHeaderBytes = from.maxRequestHeaderBytes;
      idleTimeout = from.idleTimeout;
      pushPingInterval = from.pushPingInterval;
      minRequestBytesPerSecond = from.minRequestBytesPerSecond;
    }

    public Builder maxAdminBodyBytes(long value) {
      maxAdminBodyBytes = value;
      return this;
    }

    public Builder maxAgentBodyBytes(long value) {
      maxAgentBodyBytes = value;
      return this;
    }

    public Builder maxWait(Duration value) {
      maxWait = requireNonNull(value, "maxWait == null");
      return this;
    }

    public Builder maxParkedPolls(int value) {
      maxParkedPolls = value;
      return this;
    }

    public Builder maxPushSockets(int value) {
      maxPushSockets = value;
      return this;
    }

    public Builder enrollRate(RateLimit value) {
      enrollRate = requireNonNull(value, "enrollRate == null");
      return this;
    }

    public Builder agentRate(RateLimit value) {
      agentRate = requireNonNull(value, "agentRate == null");
      return this;
    }

    public Builder adminRate(RateLimit value) {
      adminRate = requireNonNull(value, "adminRate == null");
      return this;
    }

    public Builder maxRequestHeaderBytes(int value) {
      maxRequestHeaderBytes = value;
      return this;
    }

    public Builder idleTimeout(Duration value) {
      idleTimeout = requireNonNull(value, "idleTimeout == null");
      return this;
    }

    public Builder pushPingInterval(Duration value) {
      pushPingInterval = requireNonNull(value, "pushPingInterval == null");
      return this;
    }

    public Builder minRequestBytesPerSecond(long value) {
      minRequestBytesPerSecond = value;
      return this;
    }

    /** @throws IllegalArgumentException naming the limit that is out of range */
    public TransportLimits build() {
      return new TransportLimits(
          maxAdminBodyBytes, maxAgentBodyBytes, maxWait, maxParkedPolls, maxPushSockets,
          enrollRate, agentRate, adminRate, maxRequestHeaderBytes, idleTimeout, pushPingInterval,
          minRequestBytesPerSecond);
    }
  }
}
