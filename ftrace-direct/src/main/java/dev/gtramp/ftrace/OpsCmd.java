package dev.gtramp.ftrace;

/**
 * {@code enum ftrace_ops_cmd}: what ftrace asks a direct ops' {@link OpsFunc} when an IPMODIFY user
 * (livepatch) and a direct trampoline meet on one function.
 */
public enum OpsCmd {
    /** A direct ops is (re)attached to a function that has an IPMODIFY user: can it share? */
    ENABLE_SHARE_IPMODIFY_SELF,
    /** An IPMODIFY user is registering on a function that has this direct ops. */
    ENABLE_SHARE_IPMODIFY_PEER,
    /** The IPMODIFY user of a function this direct ops serves has gone. */
    DISABLE_SHARE_IPMODIFY_PEER
}
