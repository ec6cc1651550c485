package io.egosecure.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.egosecure.agent.StateDirectory.Identity;
import io.egosecure.agent.StateDirectory.StoredPolicySet;
import io.egosecure.core.wire.AgentMessages.SigningKeyInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirectoryTest {
  @TempDir Path temp;

  private static final Identity IDENTITY = new Identity("agent-1", "tenant-a", "esa.secret",
      List.of(new SigningKeyInfo("ed25519-0011", "Ed25519", "AAAA")));

  @Test
  void writesOwnerOnlyFilesThatReadBack() throws Exception {
    Path directory = temp.resolve("state");
    try (StateDirectory state = StateDirectory.open(directory)) {
      state.writeIdentity(IDENTITY);
      state.writePolicySet(new StoredPolicySet("\"etag-1\"", "{\"revision\":1}", 60L, 10));

      assertThat(state.readIdentity()).contains(IDENTITY);
      assertThat(state.readPolicySet()).contains(new StoredPolicySet("\"etag-1\"", "{\"revision\":1}", 60L, 10));
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory))).isEqualTo("rwx------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve(StateDirectory.IDENTITY))))
          .isEqualTo("rw-------");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve(StateDirectory.POLICY_SET))))
          .isEqualTo("rw-------");
    }
  }

  @Test
  void overwritesWholeAndLeavesNoTemporaryFiles() throws Exception {
    try (StateDirectory state = StateDirectory.open(temp)) {
      for (int i = 0; i < 20; i++) {
        state.writePolicySet(new StoredPolicySet("\"etag-" + i + "\"", "{\"revision\":" + i + "}", null, null));
      }
      assertThat(state.readPolicySet().orElseThrow().etag()).isEqualTo("\"etag-19\"");
    }
    try (var files = Files.list(temp)) {
      assertThat(files.map(path -> path.getFileName().toString()))
          .containsExactlyInAnyOrder(StateDirectory.POLICY_SET, "agent.lock");
    }
  }

  @Test
  void reportsATruncatedFileAsCorrupt() throws Exception {
    try (StateDirectory state = StateDirectory.open(temp)) {
      state.writeIdentity(IDENTITY);
      byte[] whole = Files.readAllBytes(temp.resolve(StateDirectory.IDENTITY));
      Files.write(temp.resolve(StateDirectory.IDENTITY), java.util.Arrays.copyOf(whole, whole.length / 2));

      assertThatThrownBy(state::readIdentity)
          .isInstanceOfSatisfying(PolicyAgentException.class,
              e -> assertThat(e.kind()).isEqualTo(PolicyAgentException.Kind.STATE_CORRUPT))
          .hasMessageContaining(StateDirectory.IDENTITY);

      Files.writeString(temp.resolve(StateDirectory.IDENTITY), "{\"agentId\":\"a\"}", StandardCharsets.UTF_8);
      assertThatThrownBy(state::readIdentity).isInstanceOf(PolicyAgentException.class);
    }
  }

  @Test
  void removesTornWritesOnOpen() throws Exception {
    Files.writeString(temp.resolve("policy-set.json.123.tmp"), "{\"half", StandardCharsets.UTF_8);
    try (StateDirectory state = StateDirectory.open(temp)) {
      assertThat(temp.resolve("policy-set.json.123.tmp")).doesNotExist();
      assertThat(state.readPolicySet()).isEmpty();
    }
  }

  @Test
  void letsOneAgentAtATimeUseADirectory() throws Exception {
    try (StateDirectory first = StateDirectory.open(temp)) {
      assertThatThrownBy(() -> StateDirectory.open(temp))
          .isInstanceOfSatisfying(PolicyAgentException.class,
              e -> assertThat(e.kind()).isEqualTo(PolicyAgentException.Kind.STATE_UNUSABLE))
          .hasMessageContaining("in use by another agent");
    }
    StateDirectory.open(temp).close(); // released with the first
  }

  @Test
  void namesAnUnusableDirectory() throws Exception {
    Path file = Files.writeString(temp.resolve("not-a-directory"), "x");
    assertThatThrownBy(() -> StateDirectory.open(file.resolve("state")))
        .isInstanceOfSatisfying(PolicyAgentException.class,
            e -> assertThat(e.kind()).isEqualTo(PolicyAgentException.Kind.STATE_UNUSABLE))
        .hasMessageContaining("not-a-directory");
  }

  @Test
  void keepsTheCredentialOutOfToString() {
    assertThat(IDENTITY.toString()).doesNotContain("esa.secret");
  }
}
