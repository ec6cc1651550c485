package io.egosecure.examples.server;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/** Runs {@link ReferenceServer#start} in process with captured output. */
record Launcher(int exitStatus, Optional<RunningServer> server, String out, String err) {
  static Launcher run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ReferenceServer.Launch launch = ReferenceServer.start(
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
    return new Launcher(launch.exitStatus(), launch.server(),
        out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  RunningServer running() {
    return server.orElseThrow(() -> new AssertionError("did not start (exit " + exitStatus + "): " + err));
  }
}
