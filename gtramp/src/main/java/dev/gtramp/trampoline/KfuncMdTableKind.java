package dev.gtramp.trampoline;

/** The hash table that finds a {@code kfunc_md} by ip in {@link MultiLinkMode#GLOBAL_HASH}. */
public enum KfuncMdTableKind {
    /**
     * {@code RcuLongHashTable}: chained buckets after v2's {@code kfunc_md_array} and rhashtable,
     * resized by publishing a rebuilt bucket array and freeing the old one after a grace period.
     */
    RCU_HASH_TABLE,
    /** JCTools {@code NonBlockingHashMapLong}: Cliff Click's lock-free open-addressing map. */
    NON_BLOCKING_HASH_MAP
}
