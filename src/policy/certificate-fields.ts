/** Certificate subject / issuer fields by their AWS policy-variable names (`${iot:Certificate.Subject.CommonName}`). */
const DN_NAMES: Readonly<Record<string, string>> = {
  CN: 'CommonName',
  O: 'Organization',
  OU: 'OrganizationalUnit',
  C: 'Country',
  L: 'Locality',
  ST: 'State',
  serialNumber: 'SerialNumber',
  title: 'Title',
  GN: 'GivenName',
  SN: 'Surname',
  initials: 'Initials',
  pseudonym: 'Pseudonym',
  generationQualifier: 'GenerationQualifier',
  dnQualifier: 'DistinguishedNameQualifier',
};

/** Fields of a distinguished name as node:crypto prints it (`CN=x\nO=y`), keyed by their policy-variable names. */
export function certificateNameFields(dn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = DN_NAMES[line.slice(0, eq)];
    if (key && !(key in out)) out[key] = line.slice(eq + 1);
  }
  return out;
}
