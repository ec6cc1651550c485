package io.egosecure.transport.https;

import static io.egosecure.transport.https.HttpsFixture.json;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Tenant A's admin key and agent credential against every tenant-B resource: 404 exactly like a
 * missing resource (403 where the role may not use the endpoint at all), nothing of B in any body.
 */
class TenantIsolationIT {
  private final HttpsFixture fx;

  TenantIsolationIT() throws Exception {
    fx = new HttpsFixture();
  }

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void tenantAsCredentialsSeeNothingOfTenantB() throws Exception {
    HttpsFixture.Story a = fx.story();
    HttpsFixture.Story b = fx.story();
    String adminOfA = json(fx.post("/v1/tenants/" + a.tenantId() + "/admin-keys", fx.operatorKey,
        "{\"name\":\"a-admin\",\"role\":\"TENANT_ADMIN\"}")).get("key").asText();
    String bPolicy = json(fx.get("/v1/tenants/" + b.tenantId() + "/policies", fx.operatorKey)).get("items").get(0).get("id").asText();
    String bToken = json(fx.get("/v1/tenants/" + b.tenantId() + "/enrollment-tokens", fx.operatorKey)).get("items").get(0).get("id").asText();
    String t = "/v1/tenants/" + b.tenantId();
    String policyJson = "{\"name\":\"x\",\"kind\":\"k\",\"settings\":{},\"targets\":{\"all\":true}}";
    // B's tenant id is in the URLs, so the caller knows it; nothing else of B may show.
    List<String> dataOfB = List.of(b.agentId(), bPolicy, bToken, "host-01", "USB", b.token());

    for (String credential : List.of(adminOfA, a.agentCredential())) {
      List<HttpResponse<String>> responses = List.of(
          fx.get(t, credential),
          fx.delete(t, credential),
          fx.get(t + "/polling", credential),
          fx.put(t + "/polling", credential, "{\"intervalSeconds\":30,\"jitterPercent\":5}", null),
          fx.get(t + "/admin-keys", credential),
          fx.post(t + "/admin-keys", credential, "{\"name\":\"x\",\"role\":\"TENANT_ADMIN\"}"),
          fx.get(t + "/enrollment-tokens", credential),
          fx.post(t + "/enrollment-tokens", credential, "{}"),
          fx.delete(t + "/enrollment-tokens/" + bToken, credential),
          fx.get(t + "/policies", credential),
          fx.post(t + "/policies", credential, policyJson),
          fx.get(t + "/policies/" + bPolicy, credential),
          fx.put(t + "/policies/" + bPolicy, credential, policyJson, "\"1\""),
          fx.send(fx.request(t + "/policies/" + bPolicy, credential).header("If-Match", "\"1\"").DELETE().build()),
          fx.post(t + "/publish", credential, "{}"),
          fx.get(t + "/revisions", credential),
          fx.post(t + "/revisions/1/restore", credential, ""),
          fx.get(t + "/agents", credential),
          fx.put(t + "/agents/" + b.agentId() + "/groups", credential, "{\"groups\":[]}", null),
          fx.delete(t + "/agents/" + b.agentId(), credential),
          fx.get(t + "/compliance", credential),
          fx.get(t + "/audit", credential));
      int expected = credential.equals(adminOfA) ? 404 : 401;
      for (HttpResponse<String> response : responses) {
        assertThat(response.statusCode()).as(response.request().method() + " " + response.request().uri())
            .isEqualTo(expected);
        for (String data : dataOfB) {
          assertThat(response.body()).doesNotContain(data);
        }
      }
    }
    // Nothing happened to B.
    assertThat(fx.get("/v1/agent/policies", b.agentCredential()).statusCode()).isEqualTo(200);
    assertThat(json(fx.get(t + "/revisions", fx.operatorKey)).get("items")).hasSize(2);
    // And A's tenant admin lists only A.
    assertThat(json(fx.get("/v1/tenants", adminOfA)).get("items")).hasSize(1);
  }

  @Test
  void aForeignResourceAnswersExactlyLikeAMissingOne() throws Exception {
    HttpsFixture.Story a = fx.story();
    HttpsFixture.Story b = fx.story();
    String adminOfA = json(fx.post("/v1/tenants/" + a.tenantId() + "/admin-keys", fx.operatorKey,
        "{\"name\":\"a-admin\",\"role\":\"TENANT_ADMIN\"}")).get("key").asText();

    HttpResponse<String> foreign = fx.get("/v1/tenants/" + b.tenantId() + "/policies", adminOfA);
    HttpResponse<String> missing = fx.get("/v1/tenants/t-doesnotexist000000000/policies", adminOfA);

    assertThat(foreign.statusCode()).isEqualTo(missing.statusCode()).isEqualTo(404);
    assertThat(json(foreign).get("type")).isEqualTo(json(missing).get("type"));
    assertThat(json(foreign).get("title")).isEqualTo(json(missing).get("title"));
  }
}
