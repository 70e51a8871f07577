// clrscope portable PDB oracle: `pdb-oracle <file.pdb> <out.json>`. Everything it prints comes from
// System.Reflection.Metadata (MetadataReaderProvider.FromPortablePdbStream), never from clrscope:
// the PDB id, every method's sequence points (document name resolved) and every local scope with
// its variables.
using System;
using System.IO;
using System.Linq;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Text.Json;

using var stream = File.OpenRead(args[0]);
using var provider = MetadataReaderProvider.FromPortablePdbStream(stream);
var md = provider.GetMetadataReader();
var id = new BlobContentId(md.DebugMetadataHeader!.Id);
var output = new
{
    guid = id.Guid.ToString(),
    methods = md.MethodDebugInformation.Select(h => new
    {
        rid = MetadataTokens.GetRowNumber(h),
        sequencePoints = md.GetMethodDebugInformation(h).GetSequencePoints().Select(p => new
        {
            ilOffset = p.Offset,
            document = md.GetString(md.GetDocument(p.Document).Name),
            startLine = p.StartLine,
            startColumn = p.StartColumn,
            endLine = p.EndLine,
            endColumn = p.EndColumn,
            hidden = p.IsHidden,
        }).ToArray(),
    }).Where(m => m.sequencePoints.Length > 0).ToArray(),
    scopes = md.LocalScopes.Select(h => md.GetLocalScope(h)).Select(s => new
    {
        method = MetadataTokens.GetRowNumber(s.Method),
        start = s.StartOffset,
        length = s.Length,
        variables = s.GetLocalVariables().Select(v => md.GetLocalVariable(v)).Select(v => new { index = v.Index, name = md.GetString(v.Name), attributes = (int)v.Attributes }).ToArray(),
    }).ToArray(),
};
File.WriteAllText(args[1], JsonSerializer.Serialize(output));
