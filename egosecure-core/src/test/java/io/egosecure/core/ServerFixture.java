package io.egosecure.core;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.Tenant;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.ChangeFeed;
import io.egosecure.core.spi.KeyVault;
import io.egosecure.core.spi.PolicyStore;
import io.egosecure.core.testing.CountingStore;
import io.egosecure.core.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.crypto.SecretKey;

/** A started PolicyServer on a real in-memory store, with helpers for the usual steps. */
final class ServerFixture implements AutoCloseable {
  static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
  static final Duration VALIDITY = Duration.ofDays(7);

  final MutableClock clock = new MutableClock(START);
  final CountingStore store;
  final ChangeFeed feed;
  final SecretKey masterKey;
  final PolicyServer server;
  final Principal operator;
  private final List<AutoCloseable> extra = new ArrayList<>();

  ServerFixture() {
    this(new CountingStore(PolicyStore.inMemory()), ChangeFeed.inProcess(), KeyVault.generateMasterKey());
  }

  private ServerFixture(CountingStore store, ChangeFeed feed, SecretKey masterKey) {
    this.store = store;
    this.feed = feed;
    this.masterKey = masterKey;
    this.server = newNode();
    this.operator =
        server.authenticateAdmin(server.bootstrapOperatorKey("bootstrap").orElseThrow().secret());
  }

  /** Another server on the same store and feed: a second node. */
  PolicyServer newNode() {
    PolicyServer node =
        PolicyServer.builder()
            .store(store)
            .changeFeed(feed)
            .masterKey(masterKey)
            .clock(clock)
            .policySetValidity(VALIDITY)
            .build();
    node.start();
    extra.add(node);
    return node;
  }

  Principal key(Role role, Optional<TenantId> tenant) {
    IssuedAdminKey issued =
        tenant.isPresent()
            ? server.createTenantAdminKey(operator, tenant.get(), role + " key")
            : server.createAdminKey(operator, role + " key", role);
    return server.authenticateAdmin(issued.secret());
  }

  Tenant tenant(String name) {
    return server.createTenant(operator, name);
  }

  static PolicySpec spec(String name, Targets targets) {
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("usb", "block").put("level", 3);
    return new PolicySpec(name, "device-control", settings, targets);
  }

  Enrollment enroll(TenantId tenant, Set<String> groups, String name) {
    IssuedEnrollmentToken token =
        server.createEnrollmentToken(operator, tenant, Duration.ofHours(1), 10, groups);
    return server.enroll(token.secret(), name, Map.of("os", "linux"));
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable closeable : extra) {
      closeable.close();
    }
  }
}
