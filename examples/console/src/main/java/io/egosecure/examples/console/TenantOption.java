package io.egosecure.examples.console;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --tenant}, for commands on one tenant's resources. */
final class TenantOption {
  @Spec(Spec.Target.MIXEE) CommandSpec mixee;

  @Option(
      names = {"-t", "--tenant"},
      paramLabel = "TENANT",
      defaultValue = "${env:EGOSECURE_TENANT}",
      description = "The tenant's id. Default: EGOSECURE_TENANT")
  String tenant;

  String id() {
    if (tenant == null || tenant.isBlank()) {
      throw new ParameterException(mixee.commandLine(), "give --tenant TENANT (or set EGOSECURE_TENANT)");
    }
    return tenant;
  }

  /** {@code /v1/tenants/<id>} followed by {@code segments}. */
  String path(String... segments) {
    return ConsoleCommand.path("/v1/tenants", concat(id(), segments));
  }

  private static String[] concat(String first, String[] rest) {
    String[] all = new String[rest.length + 1];
    all[0] = first;
    System.arraycopy(rest, 0, all, 1, rest.length);
    return all;
  }
}
