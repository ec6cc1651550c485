package io.egosecure.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.egosecure.core.model.TenantId;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SecretsTest {
  private final Secrets secrets = new Secrets(new SecureRandom());

  @Test
  void aSecretNamesItsKindTenantAndIdAndCarries256RandomBits() {
    String secret = secrets.issue(Secrets.Kind.AGENT_CREDENTIAL, Optional.of(TenantId.of("t-1")), "a-2");

    assertThat(secret).matches("esa\\.t-1\\.a-2\\.[A-Za-z0-9_-]{43}");
    assertThat(Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, secret))
        .contains(new Secrets.Parsed(Optional.of(TenantId.of("t-1")), "a-2"));
  }

  @Test
  void aSecretOfAnotherKindDoesNotParse() {
    String admin = secrets.issue(Secrets.Kind.ADMIN_KEY, Optional.empty(), "k-1");
    String token = secrets.issue(Secrets.Kind.ENROLLMENT_TOKEN, Optional.of(TenantId.of("t")), "e");

    assertThat(Secrets.parse(Secrets.Kind.ADMIN_KEY, admin)).contains(new Secrets.Parsed(Optional.empty(), "k-1"));
    assertThat(Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, admin)).isEmpty();
    assertThat(Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, token)).isEmpty();
    assertThat(Secrets.parse(Secrets.Kind.ADMIN_KEY, token)).isEmpty();
  }

  @Test
  void malformedSecretsDoNotParse() {
    String good = secrets.issue(Secrets.Kind.AGENT_CREDENTIAL, Optional.of(TenantId.of("t")), "a");
    for (String bad : new String[] {null, "", ".", "esa...", good + "x", good.substring(1), good + ".",
        good.replace("esa.t.", "esa.T."), "esa.t.a." + "!".repeat(43), "x".repeat(300)}) {
      assertThat(Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, bad)).as(bad).isEmpty();
    }
  }

  /**
   * The parser is written by hand for speed; it must accept exactly what the format's regular
   * expression accepts. Every single-character edit of valid secrets is checked against it.
   */
  @Test
  void theHandWrittenParserAcceptsExactlyWhatTheFormatsRegularExpressionDoes() {
    Pattern agentFormat = Pattern.compile("esa\\.([a-z0-9][a-z0-9-]{0,63})\\.([a-z0-9][a-z0-9-]{0,63})\\.[A-Za-z0-9_-]{43}");
    Pattern adminFormat = Pattern.compile("esk\\.([a-z0-9][a-z0-9-]{0,63})\\.[A-Za-z0-9_-]{43}");
    String alphabet = "aAzZ09-_.!é";
    String[] valid = {
      secrets.issue(Secrets.Kind.AGENT_CREDENTIAL, Optional.of(TenantId.of("t-1")), "a-2"),
      secrets.issue(Secrets.Kind.AGENT_CREDENTIAL, Optional.of(TenantId.of("t".repeat(64))), "a".repeat(64)),
      secrets.issue(Secrets.Kind.ADMIN_KEY, Optional.empty(), "k-1"),
    };
    int checked = 0;
    for (String secret : valid) {
      for (int i = 0; i <= secret.length(); i++) {
        for (char c : alphabet.toCharArray()) {
          for (String edited : new String[] {
              secret.substring(0, i) + c + secret.substring(i),
              i < secret.length() ? secret.substring(0, i) + c + secret.substring(i + 1) : secret,
              i < secret.length() ? secret.substring(0, i) + secret.substring(i + 1) : secret}) {
            Matcher agent = agentFormat.matcher(edited);
            Optional<Secrets.Parsed> expectedAgent = agent.matches()
                ? Optional.of(new Secrets.Parsed(Optional.of(TenantId.of(agent.group(1))), agent.group(2)))
                : Optional.empty();
            Matcher admin = adminFormat.matcher(edited);
            Optional<Secrets.Parsed> expectedAdmin = admin.matches()
                ? Optional.of(new Secrets.Parsed(Optional.empty(), admin.group(1)))
                : Optional.empty();
            assertThat(Secrets.parse(Secrets.Kind.AGENT_CREDENTIAL, edited)).as(edited).isEqualTo(expectedAgent);
            assertThat(Secrets.parse(Secrets.Kind.ADMIN_KEY, edited)).as(edited).isEqualTo(expectedAdmin);
            checked++;
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(5_000);
  }

  @Test
  void idsAndSecretsDoNotRepeat() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 10_000; i++) {
      assertThat(seen.add(secrets.newId("t"))).isTrue();
    }
    assertThat(secrets.newId("t")).matches("t-[a-z0-9]{20}");
  }
}
