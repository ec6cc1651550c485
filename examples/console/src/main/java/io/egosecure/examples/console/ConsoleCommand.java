package io.egosecure.examples.console;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A console command: reaches the client and output of the {@link Console} it runs under. */
abstract class ConsoleCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public final Integer call() throws Exception {
    run();
    return ExitStatus.OK;
  }

  abstract void run() throws Exception;

  Console console() {
    return (Console) spec.root().userObject();
  }

  AdminClient client() throws ApiException {
    return console().client();
  }

  Output output() {
    return console().output();
  }

  CommandLine.ParameterException usage(String message) {
    return new CommandLine.ParameterException(spec.commandLine(), message);
  }

  static String text(JsonNode node, String member) {
    return Output.text(node.get(member));
  }

  static String path(String first, String... rest) {
    StringBuilder path = new StringBuilder(first);
    for (String segment : rest) {
      path.append('/').append(AdminClient.encode(segment));
    }
    return path.toString();
  }
}
