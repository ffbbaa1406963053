/// <reference types="vite/client" />

interface Window {
  /** An EIP-1193 provider injected by the wallet extension (or by the browser tests). */
  ethereum?: { request(args: { method: string; params?: unknown[] | object }): Promise<unknown>; on?(event: string, listener: (...args: any[]) => void): void };
}
