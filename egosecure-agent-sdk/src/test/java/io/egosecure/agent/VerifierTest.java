package io.egosecure.agent;

import static io.egosecure.agent.SignedSets.AGENT;
import static io.egosecure.agent.SignedSets.NOW;
import static io.egosecure.agent.SignedSets.TENANT;
import static io.egosecure.agent.SignedSets.policies;
import static io.egosecure.agent.SignedSets.sign;
import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.agent.Rejection.Reason;
import io.egosecure.agent.Verifier.Accepted;
import io.egosecure.agent.Verifier.Baseline;
import io.egosecure.agent.Verifier.Kind;
import io.egosecure.agent.Verifier.Rejected;
import io.egosecure.agent.Verifier.Verdict;
import io.egosecure.core.model.AgentId;
import io.egosecure.core.model.TenantId;
import io.egosecure.core.spi.SigningKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class VerifierTest {
  private final SigningKey key = SignedSets.newKey();
  private final Verifier verifier = new Verifier(List.of(key.publicKey()), TENANT, AGENT, Duration.ofMinutes(5));

  @Test
  void acceptsAFirstSetAndANewerRevision() {
    Verdict first = verifier.verify(sign(key, 3, NOW, policies("usb")), Optional.empty(), NOW);
    assertThat(first).isInstanceOf(Accepted.class);
    assertThat(kind(first)).isEqualTo(Kind.NEW);

    Verdict newer = verifier.verify(sign(key, 4, NOW, policies("usb", "wifi")), baseline(first), NOW);
    assertThat(kind(newer)).isEqualTo(Kind.NEW);
    assertThat(((Accepted) newer).verified().set().policies()).hasSize(2);
  }

  @Test
  void tellsAReissueFromTheSameSetAgain() {
    Verdict first = verifier.verify(sign(key, 3, NOW, policies("usb")), Optional.empty(), NOW);
    assertThat(kind(verifier.verify(sign(key, 3, NOW.plusSeconds(60), policies("usb")), baseline(first), NOW)))
        .isEqualTo(Kind.REISSUE);
    assertThat(kind(verifier.verify(sign(key, 3, NOW, policies("usb")), baseline(first), NOW)))
        .isEqualTo(Kind.UNCHANGED);
  }

  @Test
  void rejectsRollbacks() {
    Verdict first = verifier.verify(sign(key, 3, NOW, policies("usb")), Optional.empty(), NOW);
    assertThat(reason(verifier.verify(sign(key, 2, NOW.plusSeconds(60), policies("usb")), baseline(first), NOW)))
        .isEqualTo(Reason.ROLLBACK);
    assertThat(reason(verifier.verify(sign(key, 3, NOW.minusSeconds(60), policies("usb")), baseline(first), NOW)))
        .isEqualTo(Reason.ROLLBACK);
    assertThat(reason(verifier.verify(sign(key, 3, NOW.plusSeconds(60), policies("wifi")), baseline(first), NOW)))
        .isEqualTo(Reason.ROLLBACK);
  }

  @Test
  void rejectsWhatIsNotSignedByAnEnrolledKey() {
    byte[] good = sign(key, 3, NOW, policies("usb"));
    String tampered = new String(good, StandardCharsets.UTF_8).replace("\"enabled\":true", "\"enabled\":false");
    assertThat(reason(verifier.verify(tampered.getBytes(StandardCharsets.UTF_8), Optional.empty(), NOW)))
        .isEqualTo(Reason.BAD_SIGNATURE);
    assertThat(reason(verifier.verify(sign(SignedSets.newKey(), 3, NOW, policies("usb")), Optional.empty(), NOW)))
        .isEqualTo(Reason.UNKNOWN_KEY);
  }

  @Test
  void rejectsSetsForOthers() {
    assertThat(reason(verifier.verify(sign(key, TenantId.of("tenant-b"), AGENT, 3, NOW, policies("usb")),
        Optional.empty(), NOW))).isEqualTo(Reason.WRONG_TENANT);
    assertThat(reason(verifier.verify(sign(key, TENANT, AgentId.of("agent-2"), 3, NOW, policies("usb")),
        Optional.empty(), NOW))).isEqualTo(Reason.WRONG_AGENT);
  }

  @Test
  void checksValidityWithTheAllowedSkew() {
    byte[] set = sign(key, 3, NOW, policies("usb")); // expires NOW + 7 days
    assertThat(reason(verifier.verify(set, Optional.empty(), NOW.plus(Duration.ofDays(7)).plusSeconds(301))))
        .isEqualTo(Reason.EXPIRED);
    assertThat(verifier.verify(set, Optional.empty(), NOW.plus(Duration.ofDays(7)).plusSeconds(299)))
        .isInstanceOf(Accepted.class);
    assertThat(reason(verifier.verify(set, Optional.empty(), NOW.minusSeconds(301)))).isEqualTo(Reason.NOT_YET_VALID);
    assertThat(verifier.verify(set, Optional.empty(), NOW.minusSeconds(299))).isInstanceOf(Accepted.class);
  }

  @Test
  void reloadIgnoresTimeButNotTheSignature() {
    byte[] set = sign(key, 3, NOW.minus(Duration.ofDays(30)), policies("usb"));
    assertThat(verifier.reload(set)).isInstanceOf(Accepted.class);
    byte[] truncated = java.util.Arrays.copyOf(set, set.length / 2);
    assertThat(((Rejected) verifier.reload(truncated)).rejection().reason()).isEqualTo(Reason.MALFORMED);
  }

  @Test
  void namesMalformedInput() {
    assertThat(reason(verifier.verify("[1,2]".getBytes(StandardCharsets.UTF_8), Optional.empty(), NOW)))
        .isEqualTo(Reason.MALFORMED);
    assertThat(reason(verifier.verify("{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8), Optional.empty(), NOW)))
        .isEqualTo(Reason.MALFORMED);
    assertThat(reason(verifier.verify(new byte[] {(byte) 0xff, 0}, Optional.empty(), NOW))).isEqualTo(Reason.MALFORMED);
  }

  private static Optional<Baseline> baseline(Verdict verdict) {
    return Optional.of(Baseline.of(((Accepted) verdict).verified()));
  }

  private static Kind kind(Verdict verdict) {
    assertThat(verdict).isInstanceOf(Accepted.class);
    return ((Accepted) verdict).verified().kind();
  }

  private static Reason reason(Verdict verdict) {
    assertThat(verdict).isInstanceOf(Rejected.class);
    return ((Rejected) verdict).rejection().reason();
  }
}
