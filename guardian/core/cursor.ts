/**
 * Whether the block the agent's cursor last processed is still the chain's (no reorg under it). Pure apart from the
 * block read it is given.
 *
 * Only the chain can say that a block changed: the head's parent hash differs from the stored hash (when the head
 * comes right after it), the block at the stored height has another hash, or there is no block at that height any
 * more (the chain is now shorter). A read that fails (the node is down, slow, or answers an error) says nothing: it
 * is rethrown, so the poll fails and looks again later. Treating a failed read as a changed block would rewind the
 * cursor and forget the pending work of every request above it, deliveries of codes whose postings are already
 * on-chain included, which nothing would queue again.
 */
import { BlockNotFoundError, type Hex } from "viem";

export async function cursorIntact(
  stored: { block: bigint; hash: string },
  head: { number: bigint; parentHash: Hex },
  readBlock: (n: bigint) => Promise<{ hash: Hex | null }>,
): Promise<boolean> {
  if (stored.block + 1n === head.number) return head.parentHash === stored.hash;
  let hash: Hex | null;
  try {
    hash = (await readBlock(stored.block)).hash;
  } catch (e) {
    if (e instanceof BlockNotFoundError) return false;
    throw e;
  }
  return hash === stored.hash;
}
