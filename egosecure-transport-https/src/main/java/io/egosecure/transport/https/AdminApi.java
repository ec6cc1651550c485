package io.egosecure.transport.https;

import io.egosecure.core.AgentQuery;
import io.egosecure.core.IssuedAdminKey;
import io.egosecure.core.NotFoundException;
import io.egosecure.core.IssuedEnrollmentToken;
import io.egosecure.core.PolicyServer;
import io.egosecure.core.Principal;
import io.egosecure.core.PublishResult;
import io.egosecure.core.ValidationException;
import io.egosecure.core.model.AdminKeyId;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.AgentState;
import io.egosecure.core.model.EnrollmentTokenId;
import io.egosecure.core.model.Policy;
import io.egosecure.core.model.PolicyId;
import io.egosecure.core.model.Role;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.Page;
import io.egosecure.core.wire.AdminMessages;
import io.egosecure.core.wire.Json;
import java.util.Set;
import java.util.function.Function;
import org.eclipse.jetty.http.HttpHeader;

/** The admin (console) API of PROTOCOL.md. Roles and tenant scope are the core's to enforce. */
final class AdminApi {
  private static final Json.Strictness STRICT = Json.Strictness.REJECT_UNKNOWN_FIELDS;

  private final Transport transport;
  private final PolicyServer server;

  AdminApi(Transport transport) {
    this.transport = transport;
    this.server = transport.policyServer();
  }

  void register(Routes routes) {
    routes
        .add("POST", "/v1/admin-keys", this::createAdminKey)
        .add("GET", "/v1/admin-keys", c -> items(server.adminKeys(c.admin(), c.page()), AdminMessages.AdminKeyView::of))
        .add("DELETE", "/v1/admin-keys/{k}", c -> {
          server.deleteAdminKey(c.admin(), c.pathId("k", AdminKeyId::of, "admin key"));
          return Reply.empty(204);
        })
        .add("GET", "/v1/audit", c -> items(server.serverAudit(c.admin(), c.page()), AdminMessages.AuditView::of))
        .add("POST", "/v1/tenants", c -> {
          Principal caller = c.admin();
          AdminMessages.CreateTenant body = c.body(AdminMessages.CreateTenant.class, STRICT, maxBody());
          return Reply.json(201, AdminMessages.TenantView.of(server.createTenant(caller, body.name())));
        })
        .add("GET", "/v1/tenants", c -> items(server.tenants(c.admin(), c.page()), AdminMessages.TenantView::of))
        .add("GET", "/v1/tenants/{t}", c -> {
          Principal caller = c.admin();
          return Reply.json(200, AdminMessages.TenantView.of(server.tenant(caller, tenant(c))));
        })
        .add("DELETE", "/v1/tenants/{t}", c -> {
          Principal caller = c.admin();
          server.deleteTenant(caller, tenant(c));
          return Reply.empty(204);
        })
        .add("POST", "/v1/tenants/{t}/admin-keys", this::createTenantAdminKey)
        .add("GET", "/v1/tenants/{t}/admin-keys", c -> {
          Principal caller = c.admin();
          return items(server.tenantAdminKeys(caller, tenant(c), c.page()), AdminMessages.AdminKeyView::of);
        })
        .add("DELETE", "/v1/tenants/{t}/admin-keys/{k}", c -> {
          Principal caller = c.admin();
          server.deleteTenantAdminKey(caller, tenant(c), c.pathId("k", AdminKeyId::of, "admin key"));
          return Reply.empty(204);
        })
        .add("GET", "/v1/tenants/{t}/polling", c -> {
          Principal caller = c.admin();
          return Reply.json(200, AdminMessages.Polling.of(server.polling(caller, tenant(c))));
        })
        .add("PUT", "/v1/tenants/{t}/polling", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          AdminMessages.Polling body = c.body(AdminMessages.Polling.class, STRICT, maxBody());
          return Reply.json(200, AdminMessages.Polling.of(server.updatePolling(caller, tenant, body.toSettings())));
        })
        .add("POST", "/v1/tenants/{t}/enrollment-tokens", this::createEnrollmentToken)
        .add("GET", "/v1/tenants/{t}/enrollment-tokens", c -> {
          Principal caller = c.admin();
          return items(server.enrollmentTokens(caller, tenant(c), c.page()), AdminMessages.EnrollmentTokenView::of);
        })
        .add("DELETE", "/v1/tenants/{t}/enrollment-tokens/{e}", c -> {
          Principal caller = c.admin();
          server.deleteEnrollmentToken(caller, tenant(c), c.pathId("e", EnrollmentTokenId::of, "enrollment token"));
          return Reply.empty(204);
        })
        .add("POST", "/v1/tenants/{t}/policies", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          AdminMessages.PolicyBody body = c.body(AdminMessages.PolicyBody.class, STRICT, maxBody());
          return policy(201, server.createPolicy(caller, tenant, body.toSpec()));
        })
        .add("GET", "/v1/tenants/{t}/policies", c -> {
          Principal caller = c.admin();
          return items(server.policies(caller, tenant(c), c.page()), AdminMessages.PolicyView::of);
        })
        .add("GET", "/v1/tenants/{t}/policies/{p}", c -> {
          Principal caller = c.admin();
          return policy(200, server.policy(caller, tenant(c), policyId(c)));
        })
        .add("PUT", "/v1/tenants/{t}/policies/{p}", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          PolicyId policy = policyId(c);
          long version = ifMatch(c);
          AdminMessages.PolicyBody body = c.body(AdminMessages.PolicyBody.class, STRICT, maxBody());
          return policy(200, server.updatePolicy(caller, tenant, policy, version, body.toSpec()));
        })
        .add("DELETE", "/v1/tenants/{t}/policies/{p}", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          PolicyId policy = policyId(c);
          server.deletePolicy(caller, tenant, policy, ifMatch(c));
          return Reply.empty(204);
        })
        .add("POST", "/v1/tenants/{t}/publish", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          AdminMessages.Publish body =
              c.optionalBody(AdminMessages.Publish.class, STRICT, maxBody(), new AdminMessages.Publish(null));
          return published(server.publish(caller, tenant, body.comment()));
        })
        .add("GET", "/v1/tenants/{t}/revisions", c -> {
          Principal caller = c.admin();
          return items(server.revisions(caller, tenant(c), c.page()), AdminMessages.RevisionView::of);
        })
        .add("POST", "/v1/tenants/{t}/revisions/{n}/restore", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          long number;
          try {
            number = Long.parseLong(c.path("n"));
          } catch (NumberFormatException e) {
            throw new NotFoundException("revision " + c.path("n"));
          }
          return published(server.restore(caller, tenant, number));
        })
        .add("GET", "/v1/tenants/{t}/agents", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          AgentQuery query = new AgentQuery(
              c.query("state").map(AdminApi::state), c.query("group"), c.queryInstant("lastSeenBefore"));
          return items(server.agents(caller, tenant, query, c.page()), AdminMessages.AgentView::of);
        })
        .add("PUT", "/v1/tenants/{t}/agents/{a}/groups", c -> {
          Principal caller = c.admin();
          TenantId tenant = tenant(c);
          AgentId agent = c.pathId("a", AgentId::of, "agent");
          AdminMessages.AgentGroups body = c.body(AdminMessages.AgentGroups.class, STRICT, maxBody());
          return Reply.json(200, AdminMessages.AgentView.of(
              server.updateAgentGroups(caller, tenant, agent, Set.copyOf(body.groups()))));
        })
        .add("DELETE", "/v1/tenants/{t}/agents/{a}", c -> {
          Principal caller = c.admin();
          server.revokeAgent(caller, tenant(c), c.pathId("a", AgentId::of, "agent"));
          return Reply.empty(204);
        })
        .add("GET", "/v1/tenants/{t}/compliance", c -> {
          Principal caller = c.admin();
          return Reply.json(200, server.compliance(caller, tenant(c)));
        })
        .add("GET", "/v1/tenants/{t}/audit", c -> {
          Principal caller = c.admin();
          return items(server.audit(caller, tenant(c), c.page()), AdminMessages.AuditView::of);
        });
  }

  private long maxBody() {
    return transport.limits().maxAdminBodyBytes();
  }

  private static TenantId tenant(Call call) {
    return call.pathId("t", TenantId::of, "tenant");
  }

  private static PolicyId policyId(Call call) {
    return call.pathId("p", PolicyId::of, "policy");
  }

  private static AgentState state(String value) {
    try {
      return AgentState.valueOf(value);
    } catch (IllegalArgumentException e) {
      throw new ValidationException("state", "must be APPLIED or FAILED, was '" + Call.clip(value) + "'");
    }
  }

  /** The version an {@code If-Match: "<version>"} names; 428 without it, 412 if it names none. */
  private static long ifMatch(Call call) {
    String value = call.header(HttpHeader.IF_MATCH)
        .orElseThrow(() -> new HttpProblem(Problem.PRECONDITION_REQUIRED,
            "send If-Match with the ETag of the policy you edited"))
        .strip();
    if (value.length() >= 3 && value.startsWith("\"") && value.endsWith("\"")) {
      try {
        return Long.parseLong(value.substring(1, value.length() - 1));
      } catch (NumberFormatException e) {
        // falls through: names no version of this policy
      }
    }
    throw new HttpProblem(Problem.PRECONDITION_FAILED,
        "If-Match " + Call.clip(value) + " names no version of this policy");
  }

  private Reply createAdminKey(Call call) {
    Principal caller = call.admin();
    AdminMessages.CreateAdminKey body = call.body(AdminMessages.CreateAdminKey.class, STRICT, maxBody());
    IssuedAdminKey issued = server.createAdminKey(caller, body.name(), body.role());
    return Reply.json(201, AdminMessages.CreatedAdminKey.of(issued.key(), issued.secret()));
  }

  private Reply createTenantAdminKey(Call call) {
    Principal caller = call.admin();
    TenantId tenant = tenant(call);
    AdminMessages.CreateAdminKey body = call.body(AdminMessages.CreateAdminKey.class, STRICT, maxBody());
    if (body.role() != Role.TENANT_ADMIN) {
      throw new ValidationException("role", "must be TENANT_ADMIN here; server-wide keys are made at /v1/admin-keys");
    }
    IssuedAdminKey issued = server.createTenantAdminKey(caller, tenant, body.name());
    return Reply.json(201, AdminMessages.CreatedAdminKey.of(issued.key(), issued.secret()));
  }

  private Reply createEnrollmentToken(Call call) {
    Principal caller = call.admin();
    TenantId tenant = tenant(call);
    AdminMessages.CreateEnrollmentToken body =
        call.body(AdminMessages.CreateEnrollmentToken.class, STRICT, maxBody());
    IssuedEnrollmentToken issued = server.createEnrollmentToken(
        caller, tenant, body.expiresIn(), body.maxUses(), Set.copyOf(body.groups()));
    return Reply.json(201, AdminMessages.CreatedEnrollmentToken.of(issued.token(), issued.secret()));
  }

  private static Reply policy(int status, Policy policy) {
    return Reply.json(status, AdminMessages.PolicyView.of(policy))
        .header("ETag", "\"" + policy.version() + "\"");
  }

  private static Reply published(PublishResult result) {
    return Reply.json(result.created() ? 201 : 200, AdminMessages.Published.of(result.revision()));
  }

  private static <M, V> Reply items(Page<M> page, Function<M, V> view) {
    return Reply.json(200, AdminMessages.Items.of(page, view));
  }
}
