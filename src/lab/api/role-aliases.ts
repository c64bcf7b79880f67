/**
 * DescribeRoleAlias (`GET /role-aliases/{roleAlias}`, field notes §6.4;
 * https://docs.aws.amazon.com/iot/latest/apireference/API_DescribeRoleAlias.html): the `roleAliasDescription` of the
 * lab's role-alias store (credential-provider.ts), ResourceNotFoundException for an alias that does not exist.
 */
import { roleAliasesOf } from '../credential-provider.js';
import { epoch, notFound, type Operation } from './operation.js';

/** The role-alias rows of the operation table. */
export const ROLE_ALIAS_OPERATIONS: readonly Operation[] = [
  {
    name: 'DescribeRoleAlias',
    method: 'GET',
    path: '/role-aliases/{roleAlias}',
    resource: (req, ctx) => ctx.registry.arn('rolealias', req.params['roleAlias'] ?? ''),
    handle: (req, ctx) => {
      const name = req.params['roleAlias'] ?? '';
      const a = roleAliasesOf(ctx.registry).aliases.get(name);
      if (!a) throw notFound(`Role alias ${name} does not exist`);
      return {
        roleAliasDescription: {
          roleAlias: a.roleAlias,
          roleAliasArn: ctx.registry.arn('rolealias', a.roleAlias),
          roleArn: a.roleArn,
          owner: ctx.registry.accountId,
          credentialDurationSeconds: a.credentialDurationSeconds,
          creationDate: epoch(a.creationDate),
          lastModifiedDate: epoch(a.creationDate),
        },
      };
    },
  },
];
