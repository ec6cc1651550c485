package io.egosecure.agent;

import io.egosecure.core.model.PolicySet;
import java.net.ProxySelector;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;

/** What {@link PolicyAgent.Builder} settled, checked and immutable. */
record AgentSettings(
    List<URI> servers,
    SSLContext tls,
    ProxySelector proxySelector,
    Duration connectTimeout,
    String enrollmentToken,
    String agentName,
    Map<String, String> labels,
    Path stateDirectory,
    PolicyApplier applier,
    PolicyAgentListener listener,
    boolean push,
    boolean longPoll,
    Consumer<PolicySet> lockDown,
    Duration clockSkew,
    Clock clock,
    RandomGenerator random,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration pushSilenceTimeout,
    Duration defaultPollInterval,
    int defaultJitterPercent,
    long maxResponseBytes) {
  AgentSettings {
    servers = List.copyOf(servers);
    labels = Map.copyOf(labels);
  }

  /** Names the settings an operator would ask about; the token is a secret and stays out. */
  @Override
  public String toString() {
    return "AgentSettings[servers=" + servers + ", stateDirectory=" + stateDirectory + ", agentName=" + agentName
        + ", push=" + push + ", longPoll=" + longPoll + ", failClosed=" + (lockDown != null) + "]";
  }
}
