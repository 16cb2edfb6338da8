package dev.gtramp.kernel.bpf;

/**
 * A program's counters summed over every CPU, as {@code bpf_prog_get_stats} fills
 * {@code bpf_prog_info.run_cnt} and {@code recursion_misses}.
 *
 * @param runs   times the body ran
 * @param misses times the trampoline skipped the program because it was already running on that
 *               CPU ({@code bpf_prog_inc_misses_counter})
 */
public record BpfProgStats(long runs, long misses) {
}
