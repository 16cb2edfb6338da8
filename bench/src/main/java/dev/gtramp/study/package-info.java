/**
 * The attach-scaling study: every design attached to growing sets of functions, its events counted,
 * its kernel time projected by a cost model from those counts, and the results reported.
 */
package dev.gtramp.study;
