package io.egosecure.examples.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HelpTest {
  @Test
  void helpListsEveryOptionWithItsDefault() {
    Launcher launched = Launcher.run("--help");
    assertThat(launched.exitStatus()).isZero();
    assertThat(launched.server()).isEmpty();
    assertThat(launched.err()).isEmpty();
    assertThat(launched.out()).contains(
        "--data-dir=DIR", "Default: ./egosecure-data",
        "--host=ADDRESS", "Default: 0.0.0.0",
        "--port=PORT", "Default: 8443",
        "--database=JDBC-URL", "Default: jdbc:sqlite:DIR/egosecure.db",
        "--database-user=USER", "--database-password=PASSWORD",
        "--keystore=FILE", "--keystore-password=PASSWORD", "--cert=FILE", "--key=FILE",
        "--poll-interval=SECONDS", "Default: 60",
        "--tenancy=SCHEME", "Default: shared", "database-per-tenant",
        "--insecure-http");
  }

  @Test
  void versionNamesTheProgram() {
    Launcher launched = Launcher.run("--version");
    assertThat(launched.exitStatus()).isZero();
    assertThat(launched.out()).startsWith("egosecure-reference-server ");
  }
}
