package dev.gtramp.kernel.btf;

/**
 * One {@code struct btf_var_secinfo} of a {@code DATASEC}: a variable placed in the section.
 *
 * @param type   the {@code VAR} type id
 * @param offset the variable's offset in the section (a {@code u32}, held unsigned)
 * @param size   the variable's size in bytes (a {@code u32}, held unsigned)
 */
public record BtfVarSecinfo(int type, long offset, long size) {
}
