package dev.remap.operator.transfer;

/**
 * What a transfer Job's pod said: the tail of its log (progress lines, read every few seconds
 * while it runs) and its termination message (the outcome). An interface because the only real
 * source, the kubelet behind pods/log, is missing where the operator's integration tests run; the
 * parsing of what it returns is pure ({@link ProgressParser}) and tested apart.
 */
public interface JobLogs {

  /** The last lines the Job's newest pod printed; "" when there is nothing to read (yet). */
  String tail(String namespace, String job);

  /** The termination message of the Job's newest finished pod, or null. */
  String terminationMessage(String namespace, String job);
}
