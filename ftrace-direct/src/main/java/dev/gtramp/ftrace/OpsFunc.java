package dev.gtramp.ftrace;

/**
 * {@code ftrace_ops_func_t}: {@code ops_func(ops, ip, cmd)}, through which a direct ops negotiates
 * sharing a function with an IPMODIFY user. Returns 0 to agree or a negative errno, which ftrace
 * passes to its caller unchanged ({@code -EAGAIN}: "regenerate the trampoline and retry";
 * {@code -EBUSY}: "cannot share").
 */
@FunctionalInterface
public interface OpsFunc {
    int apply(FtraceOps ops, long ip, OpsCmd cmd);
}
