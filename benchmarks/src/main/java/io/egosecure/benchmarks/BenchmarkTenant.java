package io.egosecure.benchmarks;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicySpec;
import io.egosecure.core.model.Targets;
import io.egosecure.core.model.TenantId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The benchmarks' tenant (ARCHITECTURE.md, "Test sizes"): 1,000 policies, a tenth for all agents
 * and the rest for one or two of 20 groups, and agents in 50 distinct group combinations.
 */
final class BenchmarkTenant {
  static final int POLICIES = 1_000;
  static final int GROUPS = 20;
  static final int COMBINATIONS = 50;

  private BenchmarkTenant() {}

  /** Creates the policies as drafts, the same ones on every run (fixed seed). */
  static List<Policy> createPolicies(PolicyServer server, Principal operator, TenantId tenant) {
    Random random = new Random(42);
    List<Policy> policies = new ArrayList<>();
    for (int p = 0; p < POLICIES; p++) {
      Targets targets = p % 10 == 0
          ? Targets.allAgents()
          : Targets.groups(List.of(group(random.nextInt(GROUPS)), group(random.nextInt(GROUPS))));
      policies.add(server.createPolicy(operator, tenant, spec("policy-" + p, p, targets)));
    }
    return policies;
  }

  /** The groups of combination {@code c} (0 to 49): two or three of the 20, each set distinct. */
  static Set<String> combination(int c) {
    Set<String> combination = new LinkedHashSet<>();
    combination.add(group(c % GROUPS));
    combination.add(group((c * 7 + 3) % GROUPS));
    if (c >= GROUPS) {
      combination.add(group((c * 3 + 1) % GROUPS));
    }
    return combination;
  }

  /** Edits one policy (a new seed), so the next publish makes a revision. */
  static Policy edit(PolicyServer server, Principal operator, TenantId tenant, Policy current, int seed) {
    return server.updatePolicy(operator, tenant, current.id(), current.version(),
        spec(current.spec().name(), seed, current.spec().targets()));
  }

  private static String group(int g) {
    return "group-" + g;
  }

  private static PolicySpec spec(String name, int seed, Targets targets) {
    ObjectNode settings = JsonNodeFactory.instance.objectNode();
    settings.put("seed", seed).put("mode", "block").put("description", "policy setting text ".repeat(4));
    settings.putArray("paths").add("/usr/local/bin").add("/opt/app");
    return new PolicySpec(name, "device-control", settings, targets);
  }
}
