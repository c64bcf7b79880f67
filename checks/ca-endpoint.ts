/** Does the CA file alone verify the chain the endpoint actually presented? One result per distinct chain seen. */
import { ROUTE_IDS, type CheckResult } from '../src/model/index.js';
import type { PeerCertificateInfo } from '../src/probes/tls.js';
import { CA_VERIFIES_ENDPOINT, checkCaVerifiesChain } from './ca-verifies-endpoint.js';
import type { DoctorCheck } from './types.js';

export const caVerifiesEndpointCheck: DoctorCheck = {
  id: CA_VERIFIES_ENDPOINT.id,
  title: CA_VERIFIES_ENDPOINT.title,
  family: 'cert',
  needs: ROUTE_IDS.map((r) => `route.${r}`),
  async run(ctx, deps): Promise<CheckResult[]> {
    const seen = new Map<string, string>();
    const results: CheckResult[] = [];
    for (const [checkId, list] of deps) {
      const tls = list.find((r) => r.stage === 'tls');
      const chain = (tls?.evidence.chain as PeerCertificateInfo[] | undefined) ?? [];
      const leaf = chain[0];
      if (!tls?.route || !leaf || seen.has(leaf.fingerprint256)) continue;
      seen.set(leaf.fingerprint256, checkId);
      const port = (tls.evidence.port as number | undefined) ?? undefined;
      const address = tls.evidence.address as string | undefined;
      const result = checkCaVerifiesChain(ctx.credentials, chain.map((c) => c.pem), ctx.target.endpoint, {
        now: ctx.now(),
        ...(port ? { port } : {}),
        ...(address ? { address } : {}),
      });
      const first = results.length === 0;
      results.push({
        ...result,
        id: first ? result.id : `${result.id}:${tls.route}`,
        evidence: { ...result.evidence, route: tls.route, leafFingerprint256: leaf.fingerprint256 },
      });
    }
    if (results.length === 0) {
      results.push({
        id: CA_VERIFIES_ENDPOINT.id, route: null, stage: null, title: CA_VERIFIES_ENDPOINT.title, status: 'skip', code: 'CA_NO_PRESENTED_CHAIN',
        summary: 'no route completed a TLS handshake, so there is no presented chain to verify', evidence: {}, durationMs: 0,
      });
    }
    return results;
  },
};
