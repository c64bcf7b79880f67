/**
 * Control-plane operations about the account's endpoints: DescribeEndpoint and DescribeDomainConfiguration
 * (facts §6; endpoint types and host names per facts §2.3).
 */
import { invalid, notFound, type ApiContext, type ApiRequest, type Operation } from './operation.js';

/**
 * The host name DescribeEndpoint answers for `type` (default `iot:Data`, as the service does): the lab's ATS
 * endpoint, or the same prefix under the legacy, credential-provider or jobs host (facts §2.3). Throws
 * `InvalidRequestException` for an unknown type.
 */
function describeEndpoint(type: string | null, ctx: ApiContext): string {
  const ats = ctx.dataAtsEndpoint();
  const prefix = ats.split('-ats.')[0] ?? ats;
  const region = ctx.registry.region;
  switch (type ?? 'iot:Data') {
    case 'iot:Data-ATS':
      return ats;
    case 'iot:Data':
      return `${prefix}.iot.${region}.amazonaws.com`;
    case 'iot:CredentialProvider':
      return `${prefix}.credentials.iot.${region}.amazonaws.com`;
    case 'iot:Jobs':
      return `${prefix}.jobs.iot.${region}.amazonaws.com`;
    default:
      throw invalid(`Endpoint type ${type} is not valid`);
  }
}

/** The default domain configuration `iot:Data-ATS` only; any other name is `ResourceNotFoundException`. */
function describeDomainConfiguration(req: ApiRequest, ctx: ApiContext): unknown {
  const name = req.params['domainConfigurationName'] ?? '';
  if (name !== 'iot:Data-ATS') throw notFound(`Domain configuration ${name} does not exist`);
  return {
    domainConfigurationName: name,
    domainConfigurationArn: ctx.registry.arn('domainconfiguration', name),
    domainName: ctx.endpoint,
    serverCertificates: [],
    domainConfigurationStatus: 'ENABLED',
    serviceType: 'DATA',
    domainType: 'AWS_MANAGED',
    tlsConfig: { securityPolicy: 'IoTSecurityPolicy_TLS13_1_2_2022_10' },
    authenticationType: 'DEFAULT',
    applicationProtocol: 'DEFAULT',
  };
}

/** The endpoint family of the operation table (facts §6 rows DescribeEndpoint, DescribeDomainConfiguration). */
export const ENDPOINT_OPERATIONS: readonly Operation[] = [
  {
    name: 'DescribeEndpoint',
    method: 'GET',
    path: '/endpoint',
    resource: () => '*',
    handle: (req, ctx) => ({ endpointAddress: describeEndpoint(req.query.get('endpointType'), ctx) }),
  },
  {
    name: 'DescribeDomainConfiguration',
    method: 'GET',
    path: '/domainConfigurations/{domainConfigurationName}',
    resource: (req, ctx) => ctx.registry.arn('domainconfiguration', req.params['domainConfigurationName'] ?? ''),
    handle: describeDomainConfiguration,
  },
];
